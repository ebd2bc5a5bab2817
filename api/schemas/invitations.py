"""Invitations to join an organisation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.auth import Password
from api.schemas.common import Email, Input, Name, SafeText
from api.schemas.members import LocationLimit
from models import Role


class InvitationIn(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"email": "grace@example.com", "role": "responder"}]}
    )

    email: Email
    role: Role
    location_ids: LocationLimit | None = Field(
        None, description="Join limited to these locations; null or left out: every location."
    )


class InvitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: Role
    location_ids: list[int] | None
    expires_at: datetime
    created_at: datetime


class InvitationList(BaseModel):
    invitations: list[InvitationOut]


class AcceptIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"token": "from-the-link", "name": "Grace", "password": "example passphrase 123"}
            ]
        }
    )

    token: Annotated[SafeText, Field(min_length=1, max_length=200)]
    name: Name | None = Field(None, description="Needed when the address has no account yet.")
    password: Password | None = Field(None, description="Needed for a new account.")
