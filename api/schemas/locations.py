"""The places (Google locations, Facebook pages) a connection can see."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class LocationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    connection_id: int
    provider: str
    name: str
    store_code: str | None
    new_review_uri: str | None
    maps_uri: str | None
    active: bool


class LocationList(BaseModel):
    locations: list[LocationOut]
