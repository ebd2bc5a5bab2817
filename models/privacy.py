"""Retention policies and their runs, and data-subject requests."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin
from models.types import EncryptedText


class DataClass(enum.StrEnum):
    RECIPIENTS = "recipients"  # feedback-request recipients, after their last contact
    FIRST_PARTY_FEEDBACK = "first_party_feedback"
    DISCONNECTED_CONNECTIONS = "disconnected_connections"  # their items, locations, runs
    SYNC_RUNS = "sync_runs"
    DELIVERY_LOGS = "delivery_logs"  # outbound webhook deliveries and sent e-mail records
    AUDIT_EVENTS = "audit_events"


# Days each class is kept; None keeps it until someone erases it.
DEFAULT_RETENTION_DAYS: dict[str, int | None] = {
    DataClass.RECIPIENTS: 90,
    DataClass.FIRST_PARTY_FEEDBACK: None,
    DataClass.DISCONNECTED_CONNECTIONS: 30,
    DataClass.SYNC_RUNS: 30,
    DataClass.DELIVERY_LOGS: 30,
    DataClass.AUDIT_EVENTS: 365,
}


class RetentionPolicy(TimestampMixin, Base):
    """An organisation's choice for one data class; absent means the default."""

    __tablename__ = "retention_policies"

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    data_class: Mapped[str] = mapped_column(String(40), primary_key=True)
    days: Mapped[int | None] = mapped_column(Integer)


class RetentionRun(IdMixin, Base):
    __tablename__ = "retention_runs"

    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    erased: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class RequestKind(enum.StrEnum):
    EXPORT = "export"
    ERASURE = "erasure"


class RequestStatus(enum.StrEnum):
    RECEIVED = "received"
    DONE = "done"


class DataSubjectRequest(IdMixin, TimestampMixin, Base):
    __tablename__ = "data_subject_requests"

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default=RequestStatus.RECEIVED)
    # Who it is about: an e-mail address (kept only as its blind index) or a provider's id.
    email_index: Mapped[str | None] = mapped_column(String(64))
    reviewer_id: Mapped[str | None] = mapped_column(String(300))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The export (JSON), encrypted: it is everything held about a person.
    result: Mapped[str | None] = mapped_column(EncryptedText)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
