"""The e-mail conversation under a first-party item, and reviewers' answers arriving by e-mail."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.redaction import redact
from models import Item, Source, ThreadDirection, ThreadMessage
from models.redaction_policy import policy_for
from services.inbox.inbox import get_item
from services.scope import Scope

MAX_BODY = 20_000
# Where a client starts quoting the message being answered.
_QUOTE_INTRO = re.compile(
    r"^(On .+ wrote:|-+ ?Original Message ?-+|From: .+|Le .+ a écrit ?:|Am .+ schrieb .+:)\s*$",
    re.IGNORECASE,
)


def thread(session: Session, *, scope: Scope, item_id: int) -> list[ThreadMessage]:
    item = get_item(session, scope=scope, item_id=item_id)
    return list(
        session.scalars(
            select(ThreadMessage).where(ThreadMessage.item_id == item.id).order_by(ThreadMessage.id)
        )
    )


def strip_quoted(text: str) -> str:
    """The new part of a reply: up to the first quoted line or quote introduction."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.lstrip().startswith(">") or _QUOTE_INTRO.match(line.strip()):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def add_inbound(session: Session, *, item_id: int, body: str, message_id: str | None) -> bool:
    """Add the reviewer's answer to the item's thread; False if it was already there or the item
    is not first-party feedback."""
    item = session.get(Item, item_id)
    if item is None or item.source != Source.PLAUDIT or not body:
        return False
    inserted = session.execute(
        insert(ThreadMessage)
        .values(
            organisation_id=item.organisation_id,
            item_id=item.id,
            direction=ThreadDirection.INBOUND,
            body=redact(body[:MAX_BODY], policy_for(session, item.organisation_id)).text,
            inbound_message_id=message_id,
        )
        .on_conflict_do_nothing(index_elements=["inbound_message_id"])
        .returning(ThreadMessage.id)
    ).first()
    return inserted is not None
