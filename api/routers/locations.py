"""The locations the organisation's connections can see."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentMember, SessionDep
from api.schemas.common import Id
from api.schemas.locations import LocationList, LocationOut
from api.services import locations

router = APIRouter(prefix="/locations", tags=["locations"])


@router.get("", summary="The locations the caller may see, optionally of one connection")
def list_locations(
    member: CurrentMember, session: SessionDep, connection_id: Id | None = None
) -> LocationList:
    rows = locations.list_locations(
        session,
        organisation_id=member.organisation_id,
        connection_id=connection_id,
        location_ids=member.location_ids,
    )
    return LocationList(locations=[LocationOut.model_validate(row) for row in rows])
