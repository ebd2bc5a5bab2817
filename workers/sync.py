"""Actors that bring provider data in: a capability's sync, the provider pushes that lead to
one, and the finishing of a new connection."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage

import workers.broker  # noqa: F401  (the broker must exist before actors are declared)
from core.errors import DomainError
from models.db import session_scope
from services.sync import connect, push, run

log = logging.getLogger(__name__)


# The retries are for failures (the database restarting); a rate limit or a busy lock is
# waited out by the sync itself with a fresh message, and never counts against them.
@dramatiq.actor(
    actor_name="sync.capability", max_retries=8, time_limit=3_600_000, throws=(DomainError,)
)
def sync_capability(
    connection_id: int,
    capability: str,
    location_id: int | None = None,
    start_at: int | None = None,
    run_id: int | None = None,
    stalls: int = 0,
    resume: dict[str, Any] | None = None,
    turn: int | None = None,
    busy: int = 0,
) -> None:
    with run.dedicated_session() as session:
        run.sync(
            session,
            connection_id=connection_id,
            capability=capability,
            location_id=location_id,
            start_at=start_at,
            run_id=run_id,
            stalls=stalls,
            requested_at=_requested_at(),
            resume=resume,
            turn=turn,
            busy=busy,
        )


def _requested_at() -> datetime | None:
    """When the message being processed was sent; None for a retry or outside a worker (a
    retry is the same request again after a failure, not a new one)."""
    message = CurrentMessage.get_current_message()
    if message is None or message.options.get("retries"):
        return None
    return datetime.fromtimestamp(message.message_timestamp / 1000, UTC)


@dramatiq.actor(actor_name="push.google", max_retries=5, min_backoff=1000)
def google_notification(location: str) -> None:
    with session_scope() as session:
        push.apply_google(session, location=location)


@dramatiq.actor(actor_name="push.facebook", max_retries=5, min_backoff=1000)
def facebook_delivery(payload: dict[str, Any]) -> None:
    with session_scope() as session:
        applied = push.apply_facebook(session, payload=payload)
    log.info("facebook webhook delivery: %d change(s) applied", applied)


@dramatiq.actor(actor_name="connect.finish", max_retries=5, min_backoff=1000)
def finish_connection(state: str) -> None:
    with session_scope() as session:
        connect.finish(session, state=state)
