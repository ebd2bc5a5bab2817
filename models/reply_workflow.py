"""Outbox columns for editing and deleting posted replies and for the approval flow.

Appended to ``Reply`` like the inbox columns are to ``Item``: they belong to the dashboard's
reply tools. ``action`` says what the reply worker must do with the row; ``post`` is what every
row written before these tools meant.
"""

from __future__ import annotations

import enum

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import mapped_column

from models.organisation import Organisation
from models.reply import Reply


class ReplyAction(enum.StrEnum):
    POST = "post"  # Google: PUT …/reviews/{id}/reply
    UPDATE = "update"  # Google: the same PUT with the new text
    DELETE = "delete"  # Google: DELETE …/reviews/{id}/reply


class ApprovalStatus(enum.StrEnum):
    """Outbox states before ``pending``: a responder's reply waits for a manager."""

    AWAITING_APPROVAL = "awaiting_approval"
    REJECTED = "rejected"


Reply.action = mapped_column(
    String(10), default=ReplyAction.POST, server_default=ReplyAction.POST, nullable=False
)
Reply.approved_by_user_id = mapped_column(
    BigInteger, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
)
Reply.approved_at = mapped_column(DateTime(timezone=True), nullable=True)

# Per organisation: when set, replies by responders wait for a manager (or higher) to approve them.
Organisation.reply_approval_required = mapped_column(
    Boolean, default=False, server_default="false", nullable=False
)
