"""A member's alert choices."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Input


class AlertsIn(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"immediate_max_rating": 2, "daily_digest": True}]}
    )

    immediate_max_rating: Annotated[int, Field(ge=1, le=5)] | None = Field(
        None, description="E-mail me each new review rated this or lower; null: never."
    )
    daily_digest: bool = False


class AlertsOut(BaseModel):
    immediate_max_rating: int | None
    daily_digest: bool
