"""Sign-up, log-in and the caller's own account."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Email, Id, Input, Name, SafeText
from models import Role

# Bounded above as well: hashing a megabyte-long "password" is a cheap denial of service.
Password = Annotated[SafeText, Field(min_length=10, max_length=1024)]


class SignupIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "ada@example.com",
                    "password": "example passphrase 123",
                    "name": "Ada",
                    "organisation_name": "Ada's Bakery",
                }
            ]
        }
    )

    email: Email
    password: Password
    name: Name
    organisation_name: Name


class SignupRequested(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "requested"}]})

    status: Literal["requested"] = Field(
        "requested",
        description="Said whether the address has an account or not: a new address is e-mailed "
        "a link to confirm the sign-up, an existing one a notice that someone tried.",
    )


class SignupConfirmIn(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"token": "the token from the e-mailed link"}]}
    )

    token: Annotated[SafeText, Field(min_length=1, max_length=200)]


class LoginIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "ada@example.com", "password": "example passphrase 123"}]
        }
    )

    email: Annotated[SafeText, Field(max_length=254)]
    password: Annotated[SafeText, Field(max_length=1024)]
    organisation_id: Id | None = Field(
        None, description="Which of the person's organisations to act in; default the first."
    )


class UserOut(BaseModel):
    id: int
    email: str
    name: str


class OrganisationOut(BaseModel):
    id: int
    name: str


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")
    refresh_token: str = Field(
        description="Exchange at /api/v1/auth/refresh for a new pair; each works once."
    )
    refresh_expires_in: int = Field(description="Seconds until the refresh token expires.")


class SignupOut(TokenOut):
    user: UserOut
    organisation: OrganisationOut


class MembershipOut(BaseModel):
    organisation: OrganisationOut
    role: Role


class MeOut(BaseModel):
    user: UserOut
    organisation: OrganisationOut = Field(description="The organisation the token acts in.")
    role: Role
    location_ids: list[int] | None = Field(
        description="The locations the caller (for a key: its creator) is limited to in that "
        "organisation; null: every location."
    )
    memberships: list[MembershipOut]


class RefreshIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"refresh_token": "3q2-7w…"}]})

    refresh_token: Annotated[SafeText, Field(min_length=1, max_length=200)]


class PasswordChangeIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "current_password": "example passphrase 123",
                    "new_password": "another example passphrase",
                }
            ]
        }
    )

    current_password: Annotated[SafeText, Field(max_length=1024)]
    new_password: Password


class ResetRequestIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "ada@example.com"}]})

    email: Email


class ResetIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"token": "the token from the link", "new_password": "example passphrase 123"}
            ]
        }
    )

    token: Annotated[SafeText, Field(min_length=1, max_length=200)]
    new_password: Password


class ResetRequested(BaseModel):
    status: Literal["requested"] = Field(
        "requested", description="Said whether the address has an account or not."
    )
