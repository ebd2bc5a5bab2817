"""The services as an actor calls them — a session of its own, committed — for tests that drive
one step at a time instead of running a worker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from models import SyncRun
from models.db import session_scope
from services import alerts
from services.email.delivery import deliver_email as _deliver_email
from services.feedback import requests
from services.privacy import keys, retention, subject_requests
from services.replies.delivery import deliver as _deliver_reply
from services.sync import connect, push, run
from services.webhooks import deliveries


def sync(
    connection_id: int, capability: str, location_id: int | None = None, **options: Any
) -> SyncRun | None:
    with run.dedicated_session() as session:
        return run.sync(
            session,
            connection_id=connection_id,
            capability=capability,
            location_id=location_id,
            **options,
        )


def deliver(reply_id: int) -> str | None:
    with session_scope() as session:
        return _deliver_reply(session, reply_id=reply_id)


def deliver_email(message_id: int) -> str | None:
    with session_scope() as session:
        return _deliver_email(session, message_id=message_id)


def deliver_webhook(delivery_id: int) -> str | None:
    with session_scope() as session:
        return deliveries.deliver(session, delivery_id=delivery_id)


def send_due_requests(now: datetime | None = None) -> int:
    """What a scheduler tick and the feedback jobs it enqueues do, here and now."""
    now = now or datetime.now(UTC)
    with session_scope() as session:
        organisations = requests.organisations_due(session, now=now)
    queued = 0
    for organisation_id in organisations:
        with session_scope() as session:
            queued += requests.send_due(session, organisation_id=organisation_id, now=now)
    return queued


def send_due_digests(now: datetime) -> int:
    """What a scheduler tick and the digest jobs it enqueues do, here and now."""
    with session_scope() as session:
        organisations = alerts.organisations_with_digests_due(session, now=now)
    sent = 0
    for organisation_id in organisations:
        with session_scope() as session:
            sent += alerts.send_digests(session, organisation_id=organisation_id, now=now)
    return sent


def process(request_id: int) -> str | None:
    with session_scope() as session:
        return subject_requests.process(session, request_id=request_id)


def apply_facebook(payload: Any) -> int:
    with session_scope() as session:
        return push.apply_facebook(session, payload=payload)


def finish(state: str) -> str | None:
    with session_scope() as session:
        return connect.finish(session, state=state)


def erase_expired(now: datetime | None = None) -> dict[str, int]:
    with session_scope() as session:
        return retention.erase_expired(session, now=now)


def run_retention(run_id: int) -> None:
    with session_scope() as session:
        retention.run_retention(session, run_id=run_id)


def enqueue_retention_if_due(now: datetime) -> bool:
    with session_scope() as session:
        return retention.enqueue_if_due(session, now=now)


def rotate_all(progress: Callable[[int, int], None] = lambda done, total: None) -> int:
    with session_scope() as session:
        return keys.rotate_all(session, progress=progress)


def waiting_attempts(actor: str, row_id: int) -> int:
    """How many next attempts for this row wait in the broker's delay queue."""
    from tests.support import delayed_messages

    return sum(1 for m in delayed_messages() if m["actor_name"] == actor and m["args"] == [row_id])


def attempt_expecting_a_retry(
    deliver_one: Callable[[int], str | None], actor: str, row_id: int
) -> None:
    """One attempt that fails in a way worth retrying: the row is pending again, and its next
    attempt waits in the broker's delay queue (the outbox, not the broker, keeps the count)."""
    before = waiting_attempts(actor, row_id)
    assert deliver_one(row_id) == "pending"
    assert waiting_attempts(actor, row_id) == before + 1
