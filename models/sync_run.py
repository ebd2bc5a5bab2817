"""One record per sync of a connection's capability: what it did and what went wrong.

A sync that waits out a rate limit stays one run across the messages that carry it: it is
``waiting`` (until ``resumes_at``) and then ``succeeded``, ``partial`` or ``failed``. A waiting
run keeps the message that continues it (``continuation``), so that one the broker lost is sent
again from here (``services.sync.continuations``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin


class SyncRunStatus(enum.StrEnum):
    RUNNING = "running"
    WAITING = "waiting"  # a rate limit or a busy lock paused it; a delayed message continues it
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # some locations failed, the others were synced
    FAILED = "failed"


class SyncRun(IdMixin, Base):
    __tablename__ = "sync_runs"
    # A connection's runs, newest first, are one index walk.
    __table_args__ = (
        Index(None, "connection_id", "id"),
        # The scheduler looks for waiting runs whose continuation is overdue.
        Index(None, "resumes_at", postgresql_where="status = 'waiting'"),
    )

    connection_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("connections.id", ondelete="CASCADE")
    )
    # Set for a provider push's sync of one location; None for a sync of every location.
    location_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("locations.id", ondelete="SET NULL")
    )
    capability: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=SyncRunStatus.RUNNING)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Time spent syncing, without the rate-limit waits in the broker.
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    written: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    # Records a full pass's listing left out that a look-up found (Google's paging issue).
    reconciled: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Rate limits waited out, in the worker or in the broker.
    rate_limit_waits: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When a waiting run's continuation is due.
    resumes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The keyword arguments of the message that continues a waiting run (None otherwise).
    continuation: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    # The class of the error that failed the run (or, for a partial one, a location).
    error_class: Mapped[str | None] = mapped_column(String(60))
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
