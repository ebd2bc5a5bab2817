"""Each member's own alert choices in an organisation (workers.alerts sends them)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AlertPreference
from services.scope import Scope, in_scope


def preference(session: Session, *, scope: Scope) -> AlertPreference | None:
    """The caller's choices; None when they never made any."""
    return session.scalar(
        select(AlertPreference).where(
            *in_scope(AlertPreference, scope), AlertPreference.user_id == scope.user_id
        )
    )


def set_preference(
    session: Session, *, scope: Scope, immediate_max_rating: int | None, daily_digest: bool
) -> AlertPreference:
    chosen = preference(session, scope=scope)
    if chosen is None:
        chosen = AlertPreference(organisation_id=scope.organisation_id, user_id=scope.user_id)
        session.add(chosen)
    chosen.immediate_max_rating = immediate_max_rating
    chosen.daily_digest = daily_digest
    return chosen
