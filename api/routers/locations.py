"""The locations the organisation's connections can see."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentScope, SessionDep
from api.schemas.common import Id
from api.schemas.locations import LocationList, LocationOut
from services import locations

router = APIRouter(prefix="/locations", tags=["locations"])


@router.get("", summary="The locations the caller may see, optionally of one connection")
def list_locations(
    scope: CurrentScope, session: SessionDep, connection_id: Id | None = None
) -> LocationList:
    rows = locations.list_locations(session, scope=scope, connection_id=connection_id)
    return LocationList(locations=[LocationOut.model_validate(row) for row in rows])
