"""Feedback requests: an organisation's settings, campaigns, recipients and their answers."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin
from models.types import EncryptedText


class FeedbackSettings(TimestampMixin, Base):
    """Per organisation; a missing row or a null column means the default from settings."""

    __tablename__ = "feedback_settings"

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    logo_url: Mapped[str | None] = mapped_column(Text)
    brand_colour: Mapped[str | None] = mapped_column(String(7))
    facebook_url: Mapped[str | None] = mapped_column(Text)
    frequency_cap_days: Mapped[int | None] = mapped_column(Integer)
    hourly_limit: Mapped[int | None] = mapped_column(Integer)
    max_reminders: Mapped[int | None] = mapped_column(Integer)
    reminder_days: Mapped[int | None] = mapped_column(Integer)


class Campaign(IdMixin, TimestampMixin, Base):
    __tablename__ = "feedback_campaigns"

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    location_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("locations.id", ondelete="SET NULL")
    )
    created_by: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )


class RecipientStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    BOUNCED = "bounced"
    ANSWERED = "answered"
    UNSUBSCRIBED = "unsubscribed"
    SUPPRESSED = "suppressed"  # on the suppression list when its turn came
    CAPPED = "capped"  # asked recently already (the organisation's frequency cap)


# Statuses after which nothing more is sent to the recipient.
FINAL_STATUSES = frozenset(
    {
        RecipientStatus.BOUNCED,
        RecipientStatus.ANSWERED,
        RecipientStatus.UNSUBSCRIBED,
        RecipientStatus.SUPPRESSED,
        RecipientStatus.CAPPED,
    }
)


class Recipient(IdMixin, TimestampMixin, Base):
    __tablename__ = "feedback_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "email_index"),
        # The sender's look-ups walk only recipients still waiting: a tick costs the due rows.
        Index(
            "ix_feedback_recipients_due",
            "next_send_at",
            "organisation_id",
            postgresql_where="status IN ('queued', 'sent') AND next_send_at IS NOT NULL",
        ),
        # The frequency cap looks for an earlier request to the same address.
        Index("ix_feedback_recipients_cap", "organisation_id", "email_index", "first_sent_at"),
    )

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE")
    )
    campaign_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("feedback_campaigns.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(EncryptedText)
    email: Mapped[str] = mapped_column(EncryptedText)
    email_index: Mapped[str] = mapped_column(String(64))
    location_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("locations.id", ondelete="SET NULL")
    )
    # Whatever the uploader's system calls the person (often a customer number): never looked up.
    external_ref: Mapped[str | None] = mapped_column(EncryptedText)
    status: Mapped[str] = mapped_column(String(20), default=RecipientStatus.QUEUED)
    requests_sent: Mapped[int] = mapped_column(Integer, default=0)
    first_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_send_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Bumped by each submission: a form rendered before it is stale (a reused link).
    submissions: Mapped[int] = mapped_column(Integer, default=0)
    item_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("items.id", ondelete="SET NULL")
    )
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ThreadDirection(enum.StrEnum):
    OUTBOUND = "outbound"  # the business, by e-mail
    INBOUND = "inbound"  # the reviewer, answering that e-mail


class ThreadMessage(IdMixin, TimestampMixin, Base):
    """The e-mail conversation under a first-party item, after its first answer."""

    __tablename__ = "item_thread_messages"

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE")
    )
    item_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("items.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(EncryptedText)
    reply_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("replies.id", ondelete="SET NULL")
    )
    # Postmark's MessageID of an inbound message: a redelivered webhook adds nothing.
    inbound_message_id: Mapped[str | None] = mapped_column(String(200), unique=True)
