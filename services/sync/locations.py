"""Refreshing a connection's locations from the provider, once a day."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from connectors import errors
from connectors.account import ProviderAccount
from models import Connection, Location
from services.sync.accounts import location_ref

log = logging.getLogger(__name__)
LOCATIONS_REFRESH = timedelta(hours=24)


def locations_stale(connection: Connection) -> bool:
    listed = connection.locations_listed_at
    return listed is None or datetime.now(UTC) - listed > LOCATIONS_REFRESH


def refresh_locations(session: Session, connection: Connection, account: ProviderAccount) -> None:
    """Add new locations, update names and tokens, deactivate the ones the grant no longer
    sees, and ask the provider to push changes where it can."""
    # Each capability's sync may find the list stale at once; one of them refreshes it.
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
        {"key": f"locations:{connection.id}"},
    )
    session.refresh(connection)
    if not locations_stale(connection):
        session.commit()
        return
    known = {
        loc.external_id: loc
        for loc in session.scalars(select(Location).where(Location.connection_id == connection.id))
    }
    seen = set()
    for record in account.locations():
        seen.add(record.external_id)
        location = known.get(record.external_id) or Location(
            organisation_id=connection.organisation_id,
            connection_id=connection.id,
            provider=connection.provider,
            external_id=record.external_id,
        )
        location.name = record.name
        location.store_code = record.store_code
        location.new_review_uri = record.new_review_uri
        location.maps_uri = record.maps_uri
        if record.access_token is not None:
            location.access_token = record.access_token
        location.active = True
        session.add(location)
        if _subscribe(account, location):
            connection.push_enabled = True
    for external_id, location in known.items():
        if external_id not in seen:
            location.active = False
    _relabel(connection, account)
    connection.locations_listed_at = datetime.now(UTC)
    session.commit()


def active_locations(
    session: Session, connection_id: int, location_id: int | None, start_at: int | None
) -> list[Location]:
    query = select(Location).where(Location.connection_id == connection_id, Location.active)
    if location_id is not None:
        query = query.where(Location.id == location_id)
    if start_at is not None:
        query = query.where(Location.id >= start_at)
    return list(session.scalars(query.order_by(Location.id)))


def _relabel(connection: Connection, account: ProviderAccount) -> None:
    """The account's name as the listing saw it (Google: free); a connection without a label
    (made before labels) asks once (Facebook: one call)."""
    try:
        label = account.account_label(fetch=not connection.account_label)
    except errors.ProviderError as exc:
        log.info("no label for connection %s: %s", connection.id, type(exc).__name__)
        return
    if label:
        connection.account_label = label[:200]


def _subscribe(account: ProviderAccount, location: Location) -> bool:
    try:
        return account.subscribe(location_ref(location))
    except errors.ProviderError as exc:
        # Without push the location is still polled; the reason is worth a line in the log.
        log.info("push not enabled for location %s: %s", location.external_id, exc)
        return False
