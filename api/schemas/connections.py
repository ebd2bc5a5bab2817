"""Provider connections and the OAuth round trip that creates them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.schemas.common import Input, SafeText
from core.redirects import safe_redirect

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


class ConnectionWarning(BaseModel):
    code: str = Field(
        description="version_ending, version_ended, version_unknown (the pinned Facebook Graph "
        "API version) or capability_ending (recommendations end with the last version serving "
        "them)."
    )
    message: str
    ends_on: date | None = Field(description="The day it ends (or ended); null if unknown.")


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
    warnings: list[ConnectionWarning] = Field(
        description="Not errors yet: what will stop working, and when (Facebook Graph versions)."
    )


class ConnectionEnvelope(BaseModel):
    connection: ConnectionOut


class ConnectionList(BaseModel):
    connections: list[ConnectionOut]


class SyncOut(BaseModel):
    connection: ConnectionOut
    enqueued: list[str] = Field(description="The capabilities a sync was requested for.")


class SyncRunError(BaseModel):
    error_class: str = Field(description="What went wrong, as a class name (`NotFound`, …).")
    location: str | None = Field(description="The location's provider id; null: the whole run.")


class SyncRunOut(BaseModel):
    """One sync of one capability. A run that waits out a rate limit stays one run: `waiting`
    until `resumes_at`, then its outcome. No provider message is shown: only error classes."""

    id: int
    capability: str
    location_id: int | None = Field(description="Set for a push's sync of one location.")
    status: str = Field(description="running, waiting, succeeded, partial or failed.")
    started_at: datetime
    finished_at: datetime | None
    resumes_at: datetime | None = Field(description="When a waiting run carries on.")
    duration_ms: int | None = Field(description="Time spent syncing, without broker waits.")
    requests: int = Field(description="Requests made to the provider.")
    fetched: int
    written: int
    skipped: int
    deleted: int
    rate_limit_waits: int = Field(description="Rate limits waited out, in place or in the broker.")
    reconciled: int = Field(
        0,
        description="Records the provider's listing left out that a look-up found "
        "(Google's known paging issue)",
    )
    error_class: str | None = Field(description="The error that failed the run (or a location).")
    errors: list[SyncRunError]


class SyncRunPage(BaseModel):
    sync_runs: list[SyncRunOut]
    next_cursor: str | None
