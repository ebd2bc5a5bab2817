"""How a reply ended, told to the organisation's webhook endpoints."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from models import Reply, ReplyStatus
from services.webhooks.emit import emit


def announce(session: Session, reply: Reply) -> None:
    event = {ReplyStatus.SENT: "reply.sent", ReplyStatus.FAILED: "reply.failed"}.get(reply.status)
    if not event:
        return
    payload: dict[str, Any] = {
        "reply_id": reply.id,
        "item_id": reply.item_id,
        "action": reply.action,
    }
    if reply.moderation_state is not None:
        # The provider's verdict, for receivers that tell a rejection from a failed send.
        payload["moderation_state"] = reply.moderation_state
        payload["policy_violation"] = reply.policy_violation
    emit(session, organisation_id=reply.organisation_id, event=event, payload=payload)
