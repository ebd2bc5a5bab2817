"""Provider connections and the OAuth round trip that creates them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.schemas.common import Input, SafeText
from plaudit.redirects import safe_redirect

RedirectTarget = Annotated[SafeText, Field(max_length=2000), AfterValidator(safe_redirect)]


class AuthorizeIn(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"redirect_after": "/connections?connected=1"}]}
    )

    redirect_after: RedirectTarget | None = Field(
        None,
        description="Where to send the browser after the callback, with `?connection_id=N` "
        "added: a path on this site, or a URL of `PLAUDIT_PUBLIC_URL`'s origin or an origin in "
        "`PLAUDIT_CORS_ALLOWED_ORIGINS`; without it the callback answers JSON.",
    )


class AuthorizeOut(BaseModel):
    authorization_url: str = Field(description="Send the person's browser here.")
    state: str


class ConnectionOut(BaseModel):
    id: int
    provider: str
    status: str
    needs_reauth: bool
    status_message: str | None
    account_label: str
    scopes: list[str]
    capabilities: dict[str, Any]
    last_synced_at: datetime | None
    next_sync_at: datetime | None
    location_count: int
    created_at: datetime


class ConnectionEnvelope(BaseModel):
    connection: ConnectionOut


class ConnectionList(BaseModel):
    connections: list[ConnectionOut]


class SyncOut(BaseModel):
    connection: ConnectionOut
    enqueued: list[str] = Field(description="The capabilities a sync was requested for.")
