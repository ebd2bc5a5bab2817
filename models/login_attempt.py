"""Failed log-ins, kept for the throttling window: per account (by blind index), per client
address, and per pair of the two.

In PostgreSQL rather than in one process's memory, so that every API process sees the same count.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin


class LoginFailure(IdMixin, Base):
    __tablename__ = "login_failures"
    # (email_index, ip, created_at) serves both the account's and the pair's counts.
    __table_args__ = (
        Index(None, "email_index", "ip", "created_at"),
        Index(None, "ip", "created_at"),
    )

    email_index: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
