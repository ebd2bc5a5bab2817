"""The organisation's settings and its members."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Id, Input, Name
from models import Role

# A limit names at least one location: a member who may see nothing has no use.
LocationLimit = Annotated[
    list[Id],
    Field(
        min_length=1,
        max_length=1000,
        description="Limit to these locations of the organisation (manager, responder or "
        "viewer only); null: every location.",
    ),
]


class OrganisationDetail(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    reply_approval_required: bool = Field(
        description="Replies by responders wait for a manager's approval."
    )


class OrganisationPatch(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Ada's Bakery", "reply_approval_required": True}]}
    )

    name: Name | None = None
    reply_approval_required: bool | None = None


class MemberOut(BaseModel):
    id: int = Field(description="The membership's id.")
    user_id: int
    name: str
    email: str
    role: Role
    location_ids: list[int] | None = Field(
        description="The locations the member is limited to; null: every location."
    )


class MemberList(BaseModel):
    members: list[MemberOut]


class MemberPatch(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"role": "manager"}, {"location_ids": [12, 15]}]}
    )

    role: Role | None = None
    location_ids: LocationLimit | None = Field(
        None,
        description="Limit the member to these locations; null lifts the limit, and leaving "
        "the field out keeps it as it is.",
    )
