"""Provider push notifications → the inbox, within seconds.

A Google notification names a location: that location is synced at once. A Facebook change
complete in the event (a new comment, rating or mention) is written at once; one that is not
(the page's own reply, an event we cannot read) asks for a sync of that one location.
Deliveries repeat (Meta retries for hours), so every write is idempotent.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import dramatiq
from sqlalchemy import func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

import workers.broker  # noqa: F401  (the broker must exist before actors are declared)
from connectors.facebook import webhooks
from connectors.facebook.webhooks import Change, PageChange
from connectors.google.reviews import GoogleReviews
from connectors.records import ItemRecord
from models import CapabilityState, Connection, ConnectionStatus, Item, Location
from models.db import session_scope
from models.redaction_policy import policy_for
from plaudit.redaction import redact
from workers.enqueue import enqueue_after_commit
from workers.item_events import Changes, announce, returned
from workers.sync import sync_capability

log = logging.getLogger(__name__)
# What an event may change; our reply and the first-seen time stay as the sync wrote them.
_CONTENT = ("author_name", "author_external_id", "rating", "text", "provider_updated_at")


def apply_facebook(payload: Any) -> int:
    """Write one delivery's changes; returns how many changes reached a connected page."""
    by_page: dict[str, list[PageChange]] = defaultdict(list)
    for change in webhooks.changes(payload):
        by_page[change.page_id].append(change)
    if not by_page:
        return 0
    applied = 0
    with session_scope() as session:
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
                enqueue_after_commit(
                    session, sync_capability, connection.id, capability, location.id
                )
    return applied


def _upsert(
    session: Session, connection: Connection, location: Location, record: ItemRecord
) -> None:
    values = {
        "organisation_id": connection.organisation_id,
        "connection_id": connection.id,
        "location_id": location.id,
        "source": connection.provider,
        "kind": record.kind,
        "external_id": record.external_id,
        "posted_at": record.posted_at,
        "deleted": False,
        "author_anonymous": False,
        **{name: getattr(record, name) for name in _CONTENT},
    }
    # Identifiers typed into a comment (or a name) are removed before it is stored, as in a sync.
    policy = policy_for(session, connection.organisation_id)
    for name in ("text", "author_name"):
        if values[name] is not None:
            values[name] = redact(values[name], policy).text
    statement = insert(Item).values(values)
    changed = {name: statement.excluded[name] for name in _CONTENT if values[name] is not None}
    rows = session.execute(
        statement.on_conflict_do_update(
            index_elements=["connection_id", "external_id"],
            set_={**changed, "deleted": False, "deleted_at": None, "updated_at": func.now()},
            where=func.row(*(Item.__table__.c[n] for n in changed), Item.deleted).is_distinct_from(
                func.row(*(statement.excluded[n] for n in changed), False)
            ),
        ).returning(Item.id, literal_column("xmax = 0"))
    ).all()
    announce(session, organisation_id=connection.organisation_id, changes=returned(rows))


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


def apply_google(location: str) -> int:
    """A review changed at ``locations/{l}``: sync that location of every connection that has
    it; returns how many syncs were enqueued."""
    with session_scope() as session:
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
            enqueue_after_commit(
                session, sync_capability, connection_id, GoogleReviews.name, location_id
            )
    return len(rows)


@dramatiq.actor(actor_name="push.google", max_retries=5, min_backoff=1000)
def google_notification(location: str) -> None:
    apply_google(location)


@dramatiq.actor(actor_name="push.facebook", max_retries=5, min_backoff=1000)
def facebook_delivery(payload: dict[str, Any]) -> None:
    applied = apply_facebook(payload)
    log.info("facebook webhook delivery: %d change(s) applied", applied)
