"""The periodic loop: decide what is due and enqueue it; the work itself runs in the workers.

Each step runs per organisation, in a transaction of its own: one organisation whose step fails
is logged and skipped, and the other organisations and the other steps proceed (as
Netflix/dispatch's scheduled tasks do). Safe to run as several copies: every batch is claimed with
``FOR UPDATE SKIP LOCKED`` and pushed forward in the same transaction, so two schedulers never
enqueue the same work; messages go out after the claiming transaction commits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from connectors.providers import BY_PROVIDER
from core.settings import get_settings
from models import CapabilityState, Connection, ConnectionStatus
from models.db import session_scope
from services import alerts, outbox
from services.email.delivery import EMAILS
from services.feedback import requests
from services.privacy import retention
from services.replies import moderation
from services.replies.delivery import REPLIES
from services.sync import connect, continuations, due_polls, polling
from services.sync.limits import google_window
from services.sync.schedule import claim_sync
from services.webhooks.deliveries import DELIVERIES
from workers.enqueue import enqueue_after_commit
from workers.feedback import send_digests, send_due_requests
from workers.sync import sync_capability

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class TickResult:
    syncs: int = 0
    polls: int = 0  # Google locations whose poll was enqueued (services.sync.polling)
    replies: int = 0
    connections: int = 0
    retention: bool = False
    feedback: int = 0  # organisations whose due requests were enqueued
    stuck_emails: int = 0
    webhook_deliveries: int = 0
    digests: int = 0  # organisations whose due digests were enqueued
    moderation_checks: int = 0  # replies the provider still moderates, read back
    continuations: int = 0  # waiting syncs whose message the broker lost, sent again


def per_organisation(
    step: str,
    organisations: Callable[[Session], list[int]],
    work: Callable[[Session, int], int],
) -> int:
    """Run ``work`` for each organisation ``organisations`` names, each in its own transaction;
    one that fails is logged and skipped. Returns the sum of what the runs returned."""
    with session_scope() as session:
        names = organisations(session)
    done = 0
    for organisation_id in names:
        try:
            with session_scope() as session:
                done += work(session, organisation_id)
        except Exception:
            log.exception("scheduler: %s of organisation %s failed", step, organisation_id)
    return done


def _due_connections(now: datetime, organisation_id: int | None = None) -> Select[Any]:
    query = select(Connection).where(
        Connection.status == ConnectionStatus.ACTIVE, Connection.next_sync_at <= now
    )
    if organisation_id is not None:
        query = query.where(Connection.organisation_id == organisation_id)
    return query


def enqueue_due_syncs(now: datetime) -> int:
    """Claim due connections for a lease; the sync itself sets the next regular time. If the
    message is lost (broker down or restarted), the lease runs out and it is enqueued again."""

    def organisations(session: Session) -> list[int]:
        query = _due_connections(now).with_only_columns(Connection.organisation_id).distinct()
        return list(session.scalars(query.limit(BATCH)))

    def claim(session: Session, organisation_id: int) -> int:
        count = 0
        due = session.scalars(
            _due_connections(now, organisation_id)
            .order_by(Connection.next_sync_at)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
        for connection in due:
            claim_sync(connection, now)
            for capability in BY_PROVIDER.get(connection.provider, []):
                if connection.capability_state(capability) == CapabilityState.AVAILABLE:
                    enqueue_after_commit(session, sync_capability, connection.id, capability)
                    count += 1
        return count

    return per_organisation("syncs", organisations, claim)


def enqueue_due_polls(now: datetime) -> int:
    """Poll the due Google locations the policy picks within what is left of the quota's
    minute (``services.sync.polling``): the same decision ``bench/freshness.py`` measures."""
    settings = get_settings()
    quota = settings.google_requests_per_minute
    with session_scope() as session:
        candidates = due_polls.due(session, now=now, limit=BATCH)
        if not candidates:
            return 0
        reserved = due_polls.reserved(session)
        shares = due_polls.shares(session, sorted({c.organisation_id for c in candidates}))
        pace = due_polls.pace(session, now=now, requests_per_day=quota * 1440.0)
    used, sent = google_window(now.timestamp())
    allowed = polling.budget(
        quota=quota,
        used=max(used, sent),
        reserved=reserved,
        now=now.timestamp(),
        tick_seconds=settings.scheduler_tick_seconds,
    )
    chosen: dict[int, list[int]] = {}
    for candidate in polling.plan(candidates, allowed, shares):
        chosen.setdefault(candidate.organisation_id, []).append(candidate.location_id)

    def claim(session: Session, organisation_id: int) -> int:
        return due_polls.claim(session, location_ids=chosen[organisation_id], now=now, pace=pace)

    polled = per_organisation("polls", lambda session: sorted(chosen), claim)
    if polled:
        google_window(now.timestamp(), polls=polled)
    return polled


def _reconcile(box: outbox.Outbox[Any], now: datetime) -> int:
    return per_organisation(
        f"re-sending {box.actor}",
        lambda session: outbox.organisations_left_behind(session, box, now=now),
        lambda session, org: outbox.reconcile(session, box, now=now, organisation_id=org),
    )


def enqueue_due_feedback(now: datetime) -> int:
    """One job per organisation with requests or reminders due: the job throttles them."""

    def enqueue(session: Session, organisation_id: int) -> int:
        enqueue_after_commit(session, send_due_requests, organisation_id)
        return 1

    return per_organisation(
        "feedback requests", lambda session: requests.organisations_due(session, now=now), enqueue
    )


def enqueue_due_digests(now: datetime) -> int:
    """One job per organisation with a member's daily digest due."""

    def enqueue(session: Session, organisation_id: int) -> int:
        enqueue_after_commit(session, send_digests, organisation_id)
        return 1

    return per_organisation(
        "digests",
        lambda session: alerts.organisations_with_digests_due(session, now=now),
        enqueue,
    )


def enqueue_due_moderation_checks(now: datetime) -> int:
    return per_organisation(
        "moderation checks",
        lambda session: moderation.organisations_due(session, now=now),
        lambda session, org: moderation.enqueue_due(session, organisation_id=org, now=now),
    )


def resend_lost_continuations(now: datetime) -> int:
    return per_organisation(
        "sync continuations",
        lambda session: continuations.organisations_with_lost(session, now=now),
        lambda session, org: continuations.resend_lost(session, organisation_id=org, now=now),
    )


def reenqueue_unfinished_connections(now: datetime) -> int:
    with session_scope() as session:
        return connect.unfinished(session, now=now)


def enqueue_retention_if_due(now: datetime) -> bool:
    with session_scope() as session:
        return retention.enqueue_if_due(session, now=now)


def tick(now: datetime | None = None) -> TickResult:
    now = now or datetime.now(UTC)
    result = TickResult()
    steps: list[tuple[str, Callable[[datetime], int | bool]]] = [
        # Before the due syncs: a paused run sent again carries on where it stopped, and the
        # connection's regular sync then leaves it to its continuation.
        ("continuations", resend_lost_continuations),
        ("syncs", enqueue_due_syncs),
        ("polls", enqueue_due_polls),
        ("replies", lambda at: _reconcile(REPLIES, at)),
        ("connections", reenqueue_unfinished_connections),
        ("retention", enqueue_retention_if_due),
        ("feedback", enqueue_due_feedback),
        ("stuck_emails", lambda at: _reconcile(EMAILS, at)),
        ("webhook_deliveries", lambda at: _reconcile(DELIVERIES, at)),
        ("digests", enqueue_due_digests),
        ("moderation_checks", enqueue_due_moderation_checks),
    ]
    for name, step in steps:
        # A step that fails as a whole (the database restarting) does not stop the others.
        try:
            setattr(result, name, step(now))
        except Exception:
            log.exception("scheduler step %s failed", name)
    return result


def run_forever(stop: threading.Event) -> None:
    period = get_settings().scheduler_tick_seconds
    while not stop.is_set():
        try:
            result = tick()
            if any(value for value in vars(result).values()):
                log.info("scheduler enqueued %s", result)
        except Exception:
            # One bad tick must not end the loop.
            log.exception("scheduler tick failed")
        stop.wait(period)
