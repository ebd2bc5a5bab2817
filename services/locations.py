"""Listing an organisation's locations (those the caller may see)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import Invalid
from models import Location
from services.scope import Scope, in_scope


def list_locations(
    session: Session,
    *,
    scope: Scope,
    connection_id: int | None = None,
) -> list[Location]:
    query = select(Location).where(*in_scope(Location, scope))
    if connection_id is not None:
        query = query.where(Location.connection_id == connection_id)
    return list(session.scalars(query.order_by(Location.name, Location.id)))


def known_locations(
    session: Session,
    *,
    scope: Scope,
    ids: Collection[int],
) -> set[int]:
    """Those of ``ids`` that are locations of the organisation the caller may see."""
    if not ids:
        return set()
    return set(
        session.scalars(
            select(Location.id).where(Location.id.in_(list(ids)), *in_scope(Location, scope))
        )
    )


def check_locations(
    session: Session,
    *,
    scope: Scope,
    ids: Collection[int],
    field: str,
) -> None:
    """A 422 naming ``field`` unless every id is a location the caller may see; one outside
    the caller's locations is as unknown as another organisation's."""
    known = known_locations(session, scope=scope, ids=ids)
    if known != set(ids):
        raise Invalid("invalid", "No such location here", field=field)
