"""The organisation's settings and its members."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Input, Name
from models import Role


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


class MemberList(BaseModel):
    members: list[MemberOut]


class RoleIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "manager"}]})

    role: Role
