"""The e-mail outbox and the addresses an organisation must never e-mail again."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin
from models.types import EncryptedText


class EmailStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # the address is on the organisation's suppression list


class EmailMessage(IdMixin, TimestampMixin, Base):
    """One e-mail, written before it is sent; rendered by the worker from its template."""

    __tablename__ = "email_messages"
    __table_args__ = (
        Index(
            "ix_email_messages_unfinished",
            "updated_at",
            postgresql_where="status IN ('pending', 'sending')",
        ),
        # The hourly throttle counts an organisation's recent messages of one stream.
        Index("ix_email_messages_throttle", "organisation_id", "stream", "created_at"),
    )

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE")
    )
    to_address: Mapped[str] = mapped_column(EncryptedText)
    to_index: Mapped[str] = mapped_column(String(64))
    # For one person's eyes only (a password reset, an invitation): the organisation it is sent
    # from never reads it, not even in the demo's mailbox.
    personal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    template: Mapped[str] = mapped_column(String(60))
    # JSON of the template's variables: it may hold names and reply texts, hence encrypted.
    context: Mapped[str] = mapped_column(EncryptedText)
    stream: Mapped[str] = mapped_column(String(20), default="transactional")
    reply_to: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("feedback_recipients.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default=EmailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(200), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SuppressionReason(enum.StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    MANUAL = "manual"


class Suppression(IdMixin, TimestampMixin, Base):
    """Kept by blind index only: suppressing an address needs no copy of it."""

    __tablename__ = "email_suppressions"
    __table_args__ = (UniqueConstraint("organisation_id", "email_index"),)

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE")
    )
    email_index: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(20))
    # Bounces and complaints stop even transactional mail; an unsubscribe stops campaigns only.
    blocks_transactional: Mapped[bool] = mapped_column(Boolean, default=False)
