"""Replies to first-party feedback: the reviewer is told by e-mail instead of a provider post.

Tried first by `services.replies.delivery.deliver`. The notification is queued through the
e-mail outbox in the same transaction that marks the reply sent, so the reply is delivered once
and the e-mail is sent (by the e-mail worker) once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.redaction import redact
from models import (
    Item,
    Recipient,
    Reply,
    ReplyAction,
    ReplyStatus,
    Source,
    ThreadDirection,
    ThreadMessage,
)
from models.redaction_policy import policy_for
from services.email import links, queue_email


def notify_reviewer(session: Session, *, reply_id: int) -> str | None:
    """The reply's status if it is for a first-party item; None for any other reply."""
    reply = session.scalars(
        select(Reply)
        .join(Item, Item.id == Reply.item_id)
        .where(Reply.id == reply_id, Item.source == Source.PLAUDIT)
        .with_for_update(of=Reply, skip_locked=True)
    ).one_or_none()
    if reply is None:
        return None
    if reply.status != ReplyStatus.PENDING:
        return reply.status
    item = session.get_one(Item, reply.item_id)
    recipient = session.scalar(select(Recipient).where(Recipient.item_id == item.id))
    now = datetime.now(UTC)
    reply.attempts += 1
    if recipient is None:
        reply.status, reply.last_error = ReplyStatus.FAILED, "the reviewer's address is gone"
        return reply.status
    if reply.action == ReplyAction.DELETE:
        item.reply_text, item.reply_updated_at = None, now
    else:
        reply_to = links.reply_address(item.id)
        queue_email(
            session,
            organisation_id=item.organisation_id,
            to=recipient.email,
            template="reply_notification",
            context={"name": recipient.name, "reply": reply.body, "answerable": bool(reply_to)},
            transactional=False,  # an unsubscribed reviewer hears nothing more
            reply_to=reply_to,
        )
        session.add(
            ThreadMessage(
                organisation_id=item.organisation_id,
                item_id=item.id,
                direction=ThreadDirection.OUTBOUND,
                body=reply.body,
                reply_id=reply.id,
            )
        )
        # The e-mail and the thread (encrypted) carry the reply as sent; the inbox's plain
        # column holds it redacted, like a provider's copy.
        policy = policy_for(session, item.organisation_id)
        item.reply_text, item.reply_updated_at = redact(reply.body, policy).text, now
    reply.status, reply.sent_at, reply.last_error = ReplyStatus.SENT, now, None
    return reply.status
