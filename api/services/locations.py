"""Listing an organisation's locations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Location


def list_locations(
    session: Session, *, organisation_id: int, connection_id: int | None = None
) -> list[Location]:
    query = select(Location).where(Location.organisation_id == organisation_id)
    if connection_id is not None:
        query = query.where(Location.connection_id == connection_id)
    return list(session.scalars(query.order_by(Location.name, Location.id)))
