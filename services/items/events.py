"""What happens when items arrive or change: ``item.created`` / ``item.updated`` webhooks and
immediate alert e-mails for new low-rated reviews.

Bodies are thin (ids and facts, not the customer's words): a receiver reads the item through
the API with its key, so erasing an item (retention, a data-subject request) erases the text
everywhere, and no delivery log keeps a copy of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Item, WebhookEvent
from services.alerts import alert_new_items
from services.webhooks.emit import emit_many


@dataclass
class Changes:
    """Ids of the items a statement inserted and of the ones it changed."""

    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.created) + len(self.updated)

    def add(self, other: Changes) -> None:
        self.created += other.created
        self.updated += other.updated


def announce(session: Session, *, organisation_id: int, changes: Changes) -> None:
    """Record the webhook deliveries and alert e-mails for ``changes``, in the caller's
    transaction: they go out when it commits, and not at all if it rolls back."""
    if not changes:
        return
    created = set(changes.created)
    rows = session.execute(
        select(
            Item.id,
            Item.source,
            Item.kind,
            Item.location_id,
            Item.rating,
            Item.deleted,
            Item.posted_at,
        ).where(Item.id.in_([*changes.created, *changes.updated]))
    ).all()
    events: list[tuple[WebhookEvent, dict[str, Any]]] = [
        (
            WebhookEvent.ITEM_CREATED if row.id in created else WebhookEvent.ITEM_UPDATED,
            {
                "item_id": row.id,
                "source": row.source,
                "kind": row.kind,
                "location_id": row.location_id,
                "rating": row.rating,
                "deleted": row.deleted,
                "posted_at": row.posted_at.isoformat() if row.posted_at else None,
            },
        )
        for row in sorted(rows, key=lambda row: row.id)
    ]
    emit_many(session, organisation_id=organisation_id, events=events)
    alert_new_items(session, organisation_id=organisation_id, item_ids=sorted(created))


def returned(rows: Sequence[Any]) -> Changes:
    """``Changes`` from ``RETURNING id, (xmax = 0)``: a zero xmax is a row the statement
    inserted; an updated row carries the updating transaction's id."""
    changes = Changes()
    for item_id, inserted in rows:
        (changes.created if inserted else changes.updated).append(item_id)
    return changes
