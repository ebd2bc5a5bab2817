"""Continuations the broker lost: a waiting run's message, sent again from what its row keeps.

A waiting run (a rate limit, a busy lock) is carried on by a delayed message, which lives in the
broker; a broker restarted without its data loses it. The run's row keeps that message's
arguments (``SyncRun.continuation``, written in the transaction that sent it), so once its
``resumes_at`` is a lease past, the scheduler sends it again and moves ``resumes_at`` on, each
run claimed with ``FOR UPDATE SKIP LOCKED`` so that two schedulers never both send it. A message
that was only late does no harm: both copies carry the same turn, and whichever continues the
run first leaves the other nothing to do (``services.sync.run``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from core.settings import get_settings
from models import Connection, SyncRun, SyncRunStatus
from services.jobs import send_after_commit
from services.sync.run import SYNC

BATCH = 500


def _lost(now: datetime) -> list[ColumnElement[bool]]:
    overdue = now - timedelta(seconds=get_settings().sync_lease_seconds)
    return [
        SyncRun.status == SyncRunStatus.WAITING,
        SyncRun.resumes_at < overdue,
        SyncRun.continuation.is_not(None),
    ]


def organisations_with_lost(session: Session, *, now: datetime) -> list[int]:
    query = (
        select(Connection.organisation_id)
        .join_from(SyncRun, Connection, Connection.id == SyncRun.connection_id)
        .where(*_lost(now))
        .distinct()
        .limit(BATCH)
    )
    return list(session.scalars(query))


def resend_lost(session: Session, *, organisation_id: int, now: datetime) -> int:
    """Send the lost continuations of one organisation's runs again; returns how many."""
    runs = session.scalars(
        select(SyncRun)
        .join(Connection, Connection.id == SyncRun.connection_id)
        .where(*_lost(now), Connection.organisation_id == organisation_id)
        .order_by(SyncRun.resumes_at)
        .limit(BATCH)
        .with_for_update(of=SyncRun, skip_locked=True)
    ).all()
    for run in runs:
        run.resumes_at = now  # claimed for another lease
        send_after_commit(
            session,
            SYNC,
            run.connection_id,
            run.capability,
            run.location_id,
            **(run.continuation or {}),
        )
    return len(runs)
