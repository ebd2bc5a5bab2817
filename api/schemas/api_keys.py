"""API keys for integrations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Input, Name
from models import Scope


class ApiKeyIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "CRM sync", "scopes": ["read"], "expires_at": "2030-01-01T00:00:00Z"}
            ]
        }
    )

    name: Name
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=3)]
    expires_at: datetime | None = Field(None, description="Never expires when left out.")


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str = Field(description="The key's visible start, to recognise it in a list.")
    scopes: list[Scope]
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime


class ApiKeyCreated(BaseModel):
    api_key: ApiKeyOut
    key: str = Field(description="Send as `X-API-Key`. Shown this once; only a hash is kept.")


class ApiKeyList(BaseModel):
    api_keys: list[ApiKeyOut]
