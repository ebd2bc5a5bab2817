"""Erasing what is past its organisation's retention policy, in batches, and recording counts.

Each target names a table, how to find a row's organisation and the moment its clock starts;
the cut-off comes from the organisation's policy for that data class, or the default. A row is
erased only once it is strictly older than the cut-off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

import models  # noqa: F401  (every table registered on the metadata)
from models.base import Base
from models.privacy import DEFAULT_RETENTION_DAYS, DataClass, RetentionRun
from services.jobs import send_after_commit

log = logging.getLogger(__name__)
BATCH = 1000
RUN = "retention.run"  # the actor that runs one pass


@dataclass(frozen=True)
class Target:
    data_class: str
    table: str
    organisation: str  # SQL giving the row's organisation id
    since: str  # SQL giving when the row's retention clock started
    joins: str = ""
    where: str = "true"


TARGETS = (
    Target(DataClass.RECIPIENTS, "feedback_recipients", "t.organisation_id", "t.updated_at"),
    Target(
        DataClass.FIRST_PARTY_FEEDBACK,
        "items",
        "t.organisation_id",
        "t.posted_at",
        where="t.source = 'plaudit'",
    ),
    Target(
        DataClass.DISCONNECTED_CONNECTIONS,
        "connections",
        "t.organisation_id",
        "t.updated_at",
        where="t.status = 'disconnected'",
    ),
    Target(
        DataClass.SYNC_RUNS,
        "sync_runs",
        "c.organisation_id",
        "t.started_at",
        joins="JOIN connections c ON c.id = t.connection_id",
    ),
    Target(DataClass.DELIVERY_LOGS, "webhook_deliveries", "t.organisation_id", "t.created_at"),
    Target(
        DataClass.DELIVERY_LOGS,
        "email_messages",
        "t.organisation_id",
        "t.created_at",
        where="t.status IN ('sent', 'failed')",
    ),
    Target(DataClass.AUDIT_EVENTS, "audit_events", "t.organisation_id", "t.created_at"),
)


def _erase_batch(session: Session, target: Target, now: datetime) -> int:
    if target.table == "audit_events":
        # The append-only trigger lets this transaction, and only it, delete.
        session.execute(text("SET LOCAL plaudit.audit_retention = 'on'"))
    statement = text(
        f"""
        WITH cutoff AS (
            SELECT o.id AS organisation_id,
                   CASE WHEN p.organisation_id IS NULL THEN CAST(:default AS int)
                        ELSE p.days END AS days
            FROM organisations o
            LEFT JOIN retention_policies p
              ON p.organisation_id = o.id AND p.data_class = :data_class
            UNION ALL SELECT NULL, CAST(:default AS int)
        )
        DELETE FROM {target.table} WHERE ctid IN (
            SELECT t.ctid FROM {target.table} t {target.joins}
            JOIN cutoff k ON k.organisation_id IS NOT DISTINCT FROM {target.organisation}
            WHERE {target.where} AND k.days IS NOT NULL
              AND {target.since} < CAST(:now AS timestamptz) - make_interval(days => k.days)
            LIMIT :batch
        )
        """
    )
    params = {
        "default": DEFAULT_RETENTION_DAYS[target.data_class],
        "data_class": target.data_class,
        "now": now,
        "batch": BATCH,
    }
    return session.execute(statement, params).rowcount


def erase_expired(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """One full pass, committing each batch; returns rows erased per table."""
    now = now or datetime.now(UTC)
    erased: dict[str, int] = {}
    for target in TARGETS:
        if target.table not in Base.metadata.tables:
            continue
        total = 0
        while True:
            count = _erase_batch(session, target, now)
            session.commit()
            total += count
            if count < BATCH:
                break
        if total:
            erased[target.table] = erased.get(target.table, 0) + total
    return erased


def run_retention(session: Session, *, run_id: int) -> None:
    erased = erase_expired(session)
    run = session.get_one(RetentionRun, run_id)
    run.erased, run.finished_at = erased, datetime.now(UTC)
    session.commit()
    log.info("retention erased %s", erased or "nothing")


def enqueue_if_due(session: Session, *, now: datetime) -> bool:
    """Called by every scheduler tick; claims at most one run a day across all schedulers."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('retention'))"))
    recent = session.execute(
        text("SELECT 1 FROM retention_runs WHERE started_at > :since LIMIT 1"),
        {"since": now - timedelta(days=1)},
    ).first()
    if recent:
        return False
    run = RetentionRun(started_at=now)
    session.add(run)
    session.flush()
    send_after_commit(session, RUN, run.id)
    return True
