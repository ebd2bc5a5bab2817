"""The periodic loop: enqueue due syncs, and re-enqueue outbox rows that were left behind.

Safe to run as several copies: every batch is claimed with ``FOR UPDATE SKIP LOCKED`` and
pushed forward in the same transaction, so two schedulers never enqueue the same work. The
scheduler only enqueues; messages go out after the claiming transaction commits.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select

from connectors.capabilities import BY_PROVIDER
from models import (
    CapabilityState,
    Connection,
    ConnectionStatus,
    Item,
    OAuthState,
    Reply,
    ReplyStatus,
)
from models.db import session_scope
from plaudit.settings import get_settings
from workers.alerts import send_due_digests
from workers.connect import finish_connection
from workers.email import reenqueue_stuck_emails
from workers.enqueue import enqueue_after_commit
from workers.feedback import send_due_requests
from workers.reply import send_reply
from workers.retention import enqueue_if_due as enqueue_retention_if_due
from workers.sync import claim_sync, sync_capability
from workers.webhooks import enqueue_due_deliveries

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class TickResult:
    syncs: int = 0
    replies: int = 0
    connections: int = 0
    retention: bool = False
    feedback_emails: int = 0
    stuck_emails: int = 0
    webhook_deliveries: int = 0
    digests: int = 0


def enqueue_due_syncs(now: datetime) -> int:
    """Claim due connections for a lease; the sync itself sets the next regular time. If the
    message is lost (broker down or restarted), the lease runs out and it is enqueued again."""
    count = 0
    with session_scope() as session:
        due = session.scalars(
            select(Connection)
            .where(Connection.status == ConnectionStatus.ACTIVE, Connection.next_sync_at <= now)
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


def reenqueue_stuck_replies(now: datetime) -> int:
    """Rows left pending or sending (a lost message, a dead worker) are sent again; the reply
    worker's read-back makes that safe."""
    stale = now - timedelta(seconds=get_settings().reply_stuck_seconds)
    with session_scope() as session:
        stuck = list(
            session.scalars(
                select(Reply)
                .join(Item, Item.id == Reply.item_id)
                # First-party replies have no connection; they go out by e-mail.
                .outerjoin(Connection, Connection.id == Item.connection_id)
                .where(
                    Reply.status.in_([ReplyStatus.PENDING, ReplyStatus.SENDING]),
                    Reply.updated_at < stale,
                    or_(Item.connection_id.is_(None), Connection.status == ConnectionStatus.ACTIVE),
                )
                .order_by(Reply.updated_at)
                .limit(BATCH)
                .with_for_update(of=Reply, skip_locked=True)
            )
        )
        for reply in stuck:
            reply.updated_at = now  # not picked again until it is stale once more
            enqueue_after_commit(session, send_reply, reply.id)
    return len(stuck)


def reenqueue_unfinished_connections(now: datetime) -> int:
    with session_scope() as session:
        waiting = list(
            session.scalars(
                select(OAuthState)
                .where(
                    OAuthState.code.is_not(None),
                    OAuthState.updated_at < now - timedelta(seconds=30),
                )
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        for state in waiting:
            state.updated_at = now
            enqueue_after_commit(session, finish_connection, state.state)
    return len(waiting)


def tick(now: datetime | None = None) -> TickResult:
    now = now or datetime.now(UTC)
    return TickResult(
        syncs=enqueue_due_syncs(now),
        replies=reenqueue_stuck_replies(now),
        connections=reenqueue_unfinished_connections(now),
        retention=enqueue_retention_if_due(now),
        feedback_emails=send_due_requests(now),
        stuck_emails=reenqueue_stuck_emails(now),
        webhook_deliveries=enqueue_due_deliveries(now),
        digests=send_due_digests(now),
    )


def run_forever(stop: threading.Event) -> None:
    period = get_settings().scheduler_tick_seconds
    while not stop.is_set():
        try:
            result = tick()
            if any(value for value in vars(result).values()):
                log.info("scheduler enqueued %s", result)
        except Exception:
            # One bad tick (the database restarting, say) must not end the loop.
            log.exception("scheduler tick failed")
        stop.wait(period)
