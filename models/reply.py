"""The reply outbox: a row is written before anything is sent, and moves forward only.

``action`` says what the reply worker must do with the row (post, edit or delete the reply at
the provider). A responder's reply in an organisation that requires approval starts as
``awaiting_approval`` and becomes ``pending`` when a manager approves it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin
from models.types import EncryptedText


class ReplyStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # withdrawn before it was sent; never sent after


class ReplyAction(enum.StrEnum):
    POST = "post"  # Google: PUT …/reviews/{id}/reply
    UPDATE = "update"  # Google: the same PUT with the new text
    DELETE = "delete"  # Google: DELETE …/reviews/{id}/reply


class ReplyMode(enum.StrEnum):
    """What a reply does where the provider shows several answers (Facebook: the page's own
    comments under an item): add one more, or edit the one the item shows."""

    ADD = "add"  # the outbox row's action: post
    EDIT = "edit"  # the outbox row's action: update


class ApprovalStatus(enum.StrEnum):
    """Outbox states before ``pending``: a responder's reply waits for a manager."""

    AWAITING_APPROVAL = "awaiting_approval"
    REJECTED = "rejected"


class Reply(IdMixin, TimestampMixin, Base):
    __tablename__ = "replies"
    __table_args__ = (
        Index(None, "organisation_id", "idempotency_key", unique=True),
        # The reconciler looks only at unfinished rows.
        Index(
            "ix_replies_moderation_due",
            "moderation_check_at",
            postgresql_where="moderation_state = 'pending'",
        ),
        Index(
            "ix_replies_unfinished",
            "updated_at",
            postgresql_where="status IN ('pending', 'sending')",
        ),
    )

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE")
    )
    item_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("items.id", ondelete="CASCADE"), index=True
    )
    author_user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    # Checked for personal data before it is written (services.privacy.settings.check_reply_text);
    # encrypted because a sender may confirm an address or number on purpose.
    body: Mapped[str] = mapped_column(EncryptedText)
    status: Mapped[str] = mapped_column(String(20), default=ReplyStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(
        String(10), default=ReplyAction.POST, server_default=ReplyAction.POST
    )
    approved_by_user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What an attempt whose answer was lost left to read back (see workers/reply.py): when the
    # first attempt not yet confirmed began, and the provider's id of our reply once known.
    attempt_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_reply_id: Mapped[str | None] = mapped_column(String(200))
    # What the provider said of the reply once sent (connectors.records.ReplyState): a pending
    # one is read again at `moderation_check_at` (services.replies.moderation); a rejected one
    # fails the row with the provider's raw `policy_violation`.
    moderation_state: Mapped[str | None] = mapped_column(String(20))
    policy_violation: Mapped[str | None] = mapped_column(Text)
    moderation_check_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    moderation_checks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
