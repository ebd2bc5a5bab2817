"""An organisation's feedback settings and its suppression list."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from api import audit
from api.deps import AdminScope, CurrentScope, ManagerScope, SessionDep
from api.schemas.feedback import (
    FeedbackSettingsIn,
    FeedbackSettingsOut,
    SuppressionIn,
    SuppressionList,
    SuppressionOut,
)
from models import SuppressionReason
from services.email import policy

router = APIRouter(tags=["feedback"])


@router.get("/feedback/settings", summary="Branding, caps, throttle and reminders in force")
def get_settings(scope: CurrentScope, session: SessionDep) -> FeedbackSettingsOut:
    return FeedbackSettingsOut(**vars(policy.policy_of(session, scope=scope)))


@router.patch("/feedback/settings", summary="Change some of them; null restores a default (admin)")
def update_settings(
    body: FeedbackSettingsIn, scope: AdminScope, session: SessionDep, request: Request
) -> FeedbackSettingsOut:
    values = {
        name: None if value is None else str(value) if name.endswith("_url") else value
        for name, value in body.model_dump(exclude_unset=True).items()
    }
    policy.update_settings(session, scope=scope, values=values)
    audit.record(
        session,
        request=request,
        scope=scope,
        action="feedback_settings.updated",
        details={"fields": sorted(values)},
    )
    return get_settings(scope, session)


@router.get("/suppressions", summary="Addresses never e-mailed again (the newest 100)")
def list_suppressions(scope: CurrentScope, session: SessionDep) -> SuppressionList:
    total, newest = policy.list_suppressions(session, scope=scope)
    return SuppressionList(
        total=total, suppressions=[SuppressionOut.model_validate(s) for s in newest]
    )


@router.post("/suppressions", status_code=status.HTTP_204_NO_CONTENT, summary="Suppress an address")
def add_suppression(
    body: SuppressionIn, scope: ManagerScope, session: SessionDep, request: Request
) -> None:
    policy.suppress_address(session, scope=scope, email=body.email, reason=SuppressionReason.MANUAL)
    audit.record(session, request=request, scope=scope, action="suppression.added")
