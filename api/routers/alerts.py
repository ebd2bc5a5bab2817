"""Each member's own alert choices."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select

from api import audit
from api.deps import PersonScope, SessionDep
from api.schemas.alerts import AlertsIn, AlertsOut
from models import AlertPreference

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("", summary="The caller's alert choices in this organisation")
def get_alerts(scope: PersonScope, session: SessionDep) -> AlertsOut:
    preference = _preference(session, scope)
    if preference is None:
        return AlertsOut(immediate_max_rating=None, daily_digest=False)
    return AlertsOut(
        immediate_max_rating=preference.immediate_max_rating,
        daily_digest=preference.daily_digest,
    )


@router.put("", summary="Set the caller's alert choices")
def set_alerts(
    body: AlertsIn, scope: PersonScope, session: SessionDep, request: Request
) -> AlertsOut:
    preference = _preference(session, scope)
    if preference is None:
        preference = AlertPreference(organisation_id=scope.organisation_id, user_id=scope.user_id)
        session.add(preference)
    preference.immediate_max_rating = body.immediate_max_rating
    preference.daily_digest = body.daily_digest
    audit.record(session, request=request, scope=scope, action="alerts.updated")
    return AlertsOut(**body.model_dump())


def _preference(session: SessionDep, scope: PersonScope) -> AlertPreference | None:
    return session.scalar(
        select(AlertPreference).where(
            AlertPreference.organisation_id == scope.organisation_id,
            AlertPreference.user_id == scope.user_id,
        )
    )
