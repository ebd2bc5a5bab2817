"""The places (Google locations, Facebook pages) a connection can see."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LocationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    connection_id: int
    provider: str
    external_id: str = Field(
        description="The provider's id: a Facebook page id, or a Google location's v4 name "
        "(`accounts/{account}/locations/{location}`)."
    )
    name: str
    store_code: str | None
    new_review_uri: str | None
    maps_uri: str | None
    active: bool


class LocationList(BaseModel):
    locations: list[LocationOut]
