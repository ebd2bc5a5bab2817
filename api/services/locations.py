"""Listing an organisation's locations (those the caller may see)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.scope import LocationIds, in_locations
from models import Location


def list_locations(
    session: Session,
    *,
    organisation_id: int,
    connection_id: int | None = None,
    location_ids: LocationIds = None,
) -> list[Location]:
    query = select(Location).where(
        Location.organisation_id == organisation_id, *in_locations(Location.id, location_ids)
    )
    if connection_id is not None:
        query = query.where(Location.connection_id == connection_id)
    return list(session.scalars(query.order_by(Location.name, Location.id)))


def known_locations(
    session: Session,
    *,
    organisation_id: int,
    ids: Collection[int],
    location_ids: LocationIds = None,
) -> set[int]:
    """Those of ``ids`` that are locations of the organisation the caller may see."""
    if not ids:
        return set()
    return set(
        session.scalars(
            select(Location.id).where(
                Location.organisation_id == organisation_id,
                Location.id.in_(list(ids)),
                *in_locations(Location.id, location_ids),
            )
        )
    )


def check_locations(
    session: Session,
    *,
    organisation_id: int,
    ids: Collection[int],
    field: str,
    location_ids: LocationIds = None,
) -> None:
    """A 422 naming ``field`` unless every id is a location the caller may see; one outside
    the caller's locations is as unknown as another organisation's."""
    known = known_locations(
        session, organisation_id=organisation_id, ids=ids, location_ids=location_ids
    )
    if known != set(ids):
        raise ApiError(422, "invalid", "No such location here", field=field)
