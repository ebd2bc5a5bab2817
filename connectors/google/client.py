"""Authorised access to Google for one connection: credentials, sessions, API clients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import google_auth_httplib2
import httplib2
import requests
from google.auth.exceptions import RefreshError, TransportError
from google.auth.transport.requests import AuthorizedSession
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build

from connectors import errors
from connectors.base import ErrorTable, Limiter, ProviderClient
from connectors.google.errors import GoogleErrors
from connectors.google.oauth import SCOPES
from core.settings import get_settings


@dataclass
class GoogleTokens:
    access_token: str | None
    refresh_token: str | None
    expires_at: datetime | None


def credentials(tokens: GoogleTokens) -> Credentials:
    settings = get_settings()
    expiry = tokens.expires_at.astimezone(UTC).replace(tzinfo=None) if tokens.expires_at else None
    return Credentials(
        token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        token_uri=settings.google_token_uri,
        client_id=settings.google_client_id,
        client_secret=settings.google_client_secret.get_secret_value(),
        scopes=SCOPES,
        expiry=expiry,
    )


def current_tokens(creds: Credentials) -> GoogleTokens:
    """What to save after use: google-auth refreshes in place."""
    expires_at = creds.expiry.replace(tzinfo=UTC) if creds.expiry else None
    return GoogleTokens(creds.token, creds.refresh_token, expires_at)


def raise_for_refresh(exc: RefreshError | TransportError) -> None:
    if isinstance(exc, RefreshError) and not exc.retryable:
        raise errors.NeedsReauth("Google refused the refresh token (revoked or expired)") from None
    raise errors.Transient(f"token refresh failed: {type(exc).__name__}") from None


class _Session(AuthorizedSession):
    """AuthorizedSession refreshes once on 401; a refused refresh becomes NeedsReauth."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().request(method, url, *args, **kwargs)
        except (RefreshError, TransportError) as exc:
            raise_for_refresh(exc)


def v4_client(creds: Credentials, *, limiter: Limiter | None = None) -> ProviderClient:
    """The My Business v4 API, which ships no discovery document: plain authorised HTTP."""
    return authorized_client(
        creds, get_settings().google_mybusiness_url, error_table=GoogleErrors(), limiter=limiter
    )


def authorized_client(
    creds: Credentials, base_url: str, *, error_table: ErrorTable, limiter: Limiter | None = None
) -> ProviderClient:
    session = _Session(creds)
    # Proxies from the environment, read once rather than on every request of a long sync.
    session.proxies = requests.utils.get_environ_proxies(base_url)
    session.trust_env = False
    return ProviderClient(
        session=session,
        base_url=base_url,
        error_table=error_table,
        limiter=limiter,
        timeout=get_settings().provider_timeout_seconds,
    )


def discovery_client(api: str, creds: Credentials, endpoint: str) -> Any:
    """A googleapiclient service from the discovery document shipped with the library."""
    http = google_auth_httplib2.AuthorizedHttp(
        creds, http=httplib2.Http(timeout=get_settings().provider_timeout_seconds)
    )
    return build(
        api,
        "v1",
        http=http,
        client_options={"api_endpoint": endpoint},
        static_discovery=True,
        cache_discovery=False,
    )
