"""Each member's own alert choices."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api import audit
from api.deps import PersonScope, SessionDep
from api.schemas.alerts import AlertsIn, AlertsOut
from services.team import alert_preferences

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("", summary="The caller's alert choices in this organisation")
def get_alerts(scope: PersonScope, session: SessionDep) -> AlertsOut:
    chosen = alert_preferences.preference(session, scope=scope)
    if chosen is None:
        return AlertsOut(immediate_max_rating=None, daily_digest=False)
    return AlertsOut(
        immediate_max_rating=chosen.immediate_max_rating, daily_digest=chosen.daily_digest
    )


@router.put("", summary="Set the caller's alert choices")
def set_alerts(
    body: AlertsIn, scope: PersonScope, session: SessionDep, request: Request
) -> AlertsOut:
    alert_preferences.set_preference(
        session,
        scope=scope,
        immediate_max_rating=body.immediate_max_rating,
        daily_digest=body.daily_digest,
    )
    audit.record(session, request=request, scope=scope, action="alerts.updated")
    return AlertsOut(**body.model_dump())
