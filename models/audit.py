"""Who changed what, when and from where.

Append-only and tamper-evident: a database trigger refuses updates and deletes (retention aside)
and chains each row to the previous one by a SHA-256 hash that it computes itself (migration
0006), so that `plaudit audit verify` can tell whether any row was changed or removed. The
organisation and user ids are plain columns, not foreign keys: the log outlives what it names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, FetchedValue, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index(None, "organisation_id", "created_at"),)

    organisation_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(100))
    target_type: Mapped[str | None] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(100))
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set by the chaining trigger, never by the application.
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True, server_default=FetchedValue())
    prev_hash: Mapped[str | None] = mapped_column(String(64), server_default=FetchedValue())
    hash: Mapped[str | None] = mapped_column(String(64), server_default=FetchedValue())
