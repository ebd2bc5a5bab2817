"""Provider push notifications → the inbox, within seconds.

A Google notification names a location: that location is synced at once. A Facebook change
complete in the event (a new comment, rating or mention) is written at once; one that is not
(the page's own reply, an event we cannot read) asks for a sync of that one location.
Deliveries repeat (Meta retries for hours), so every write is idempotent.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.facebook import webhooks
from connectors.facebook.webhooks import Change, PageChange
from connectors.google.reviews import GoogleReviews
from connectors.records import ItemRecord
from models import CapabilityState, Connection, ConnectionStatus, Item, Location
from services.items.events import Changes, announce
from services.items.upsert import upsert_items
from services.jobs import send_after_commit
from services.sync.run import SYNC


def apply_facebook(session: Session, *, payload: Any) -> int:
    """Write one delivery's changes; returns how many changes reached a connected page."""
    by_page: dict[str, list[PageChange]] = defaultdict(list)
    for change in webhooks.changes(payload):
        by_page[change.page_id].append(change)
    if not by_page:
        return 0
    applied = 0
    rows = session.execute(
        select(Location, Connection)
        .join(Connection, Connection.id == Location.connection_id)
        .where(
            Location.provider == "facebook",
            Location.external_id.in_(list(by_page)),
            Location.active,
            Connection.status == ConnectionStatus.ACTIVE,
        )
    ).tuples()
    for location, connection in rows:
        # The same page may be connected by several organisations: each gets the change.
        syncs = set()
        for change in by_page[location.external_id]:
            applied += 1
            if change.change is Change.SYNC:
                # A retired edge is not read again; what an event carries is still kept.
                if connection.capability_state(change.capability) == CapabilityState.AVAILABLE:
                    syncs.add(change.capability)
            elif change.change is Change.DELETE and change.external_id:
                _delete(session, connection, change.external_id)
            elif change.record is not None:
                _upsert(session, connection, location, change.record)
        for capability in sorted(syncs):
            send_after_commit(session, SYNC, connection.id, capability, location.id)
    return applied


def _upsert(
    session: Session, connection: Connection, location: Location, record: ItemRecord
) -> None:
    changes = upsert_items(
        session,
        organisation_id=connection.organisation_id,
        connection_id=connection.id,
        location_id=location.id,
        source=connection.provider,
        records=[record],
        partial=True,
    )
    announce(session, organisation_id=connection.organisation_id, changes=changes)


def _delete(session: Session, connection: Connection, external_id: str) -> None:
    gone = session.scalars(
        update(Item)
        .where(
            Item.connection_id == connection.id,
            Item.external_id == external_id,
            Item.deleted.is_(False),
        )
        .values(deleted=True, deleted_at=datetime.now(UTC))
        .returning(Item.id)
    ).all()
    announce(session, organisation_id=connection.organisation_id, changes=Changes(updated=[*gone]))


def apply_google(session: Session, *, location: str) -> int:
    """A review changed at ``locations/{l}``: sync that location of every connection that has
    it; returns how many syncs were enqueued."""
    rows = session.execute(
        select(Location.id, Location.connection_id)
        .join(Connection, Connection.id == Location.connection_id)
        .where(
            Location.provider == "google",
            Location.external_id.endswith("/" + location),
            Location.active,
            Connection.status == ConnectionStatus.ACTIVE,
        )
    ).all()
    for location_id, connection_id in rows:
        send_after_commit(session, SYNC, connection_id, GoogleReviews.name, location_id)
    return len(rows)
