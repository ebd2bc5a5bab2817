"""A recipient's answer on the public page: an inbox item, and unsubscribing.

A second answer updates the first (same item). The form carries the number of answers it was
rendered after, so a form submitted twice (a replay, the back button) is recognised as reused.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from core import signed
from core.redaction import redact
from models import FINAL_STATUSES, Item, Kind, Recipient, RecipientStatus, Source, SuppressionReason
from models.redaction_policy import policy_for
from services.email import links
from services.email.policy import suppress
from services.items.events import Changes, announce

MAX_COMMENT = 5000


class StaleForm(Exception):
    """The form was rendered before the latest answer: it was already submitted."""


def form_token(recipient: Recipient) -> str:
    return signed.sign(links.FEEDBACK_FORM, {"r": recipient.id, "v": recipient.submissions})


def answer(
    session: Session, *, recipient: Recipient, token: str, rating: int, comment: str
) -> Item:
    claims = signed.verify(links.FEEDBACK_FORM, token)
    if claims.get("r") != recipient.id or claims.get("v") != recipient.submissions:
        raise StaleForm
    now = datetime.now(UTC)
    # Identifiers the customer typed are removed before the answer is stored, as for reviews.
    text = redact(comment.strip(), policy_for(session, recipient.organisation_id)).text or None
    item = session.get(Item, recipient.item_id) if recipient.item_id else None
    first = item is None
    if item is None:
        item = Item(
            organisation_id=recipient.organisation_id,
            connection_id=None,
            location_id=recipient.location_id,
            source=Source.PLAUDIT,
            kind=Kind.FEEDBACK,
            external_id=f"feedback-{recipient.id}",
            # The name stays encrypted on the recipient; the inbox's columns are plain text.
            author_name=None,
            posted_at=now,
        )
        session.add(item)
    item.rating, item.text, item.provider_updated_at = rating, text, now
    session.flush()
    recipient.item_id = item.id
    recipient.submissions += 1
    recipient.answered_at = now
    recipient.status = RecipientStatus.ANSWERED
    recipient.next_send_at = None  # no reminder after an answer
    changes = Changes(created=[item.id]) if first else Changes(updated=[item.id])
    announce(session, organisation_id=recipient.organisation_id, changes=changes)
    return item


def unsubscribe(session: Session, *, organisation_id: int, email_index: str) -> None:
    suppress(
        session,
        organisation_id=organisation_id,
        email_index=email_index,
        reason=SuppressionReason.UNSUBSCRIBED,
    )
    session.execute(
        update(Recipient)
        .where(
            Recipient.organisation_id == organisation_id,
            Recipient.email_index == email_index,
            Recipient.status.not_in([s.value for s in FINAL_STATUSES]),
        )
        .values(status=RecipientStatus.UNSUBSCRIBED, next_send_at=None)
    )
