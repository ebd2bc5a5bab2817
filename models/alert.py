"""Each member's alert choices: an immediate e-mail for low ratings, and/or a daily digest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, SmallInteger, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin


class AlertPreference(IdMixin, TimestampMixin, Base):
    __tablename__ = "alert_preferences"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    # An e-mail for each new review rated at or below this; None: no immediate alerts.
    immediate_max_rating: Mapped[int | None] = mapped_column(SmallInteger)
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
