"""Authorised access to Google for one connection: credentials, sessions, API clients."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import google_auth_httplib2
import httplib2
import requests
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from connectors.base import (
    ErrorTable,
    Failure,
    Limiter,
    ProviderClient,
    ProviderFailure,
    SessionTransport,
    retry_after_seconds,
)
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


def v4_client(creds: Credentials, *, limiter: Limiter | None = None) -> ProviderClient:
    """The My Business v4 API, which ships no discovery document: plain authorised HTTP."""
    return authorized_client(
        creds, get_settings().google_mybusiness_url, error_table=GoogleErrors(), limiter=limiter
    )


def authorized_client(
    creds: Credentials, base_url: str, *, error_table: ErrorTable, limiter: Limiter | None = None
) -> ProviderClient:
    """google-auth's session, which renews an expired token before a request; a refused one
    (401) is the error table's to renew (REFRESH_THEN_RETRY), not the session's."""
    session = AuthorizedSession(creds, refresh_status_codes=())
    # Proxies from the environment, read once rather than on every request of a long sync.
    session.proxies = requests.utils.get_environ_proxies(base_url)
    session.trust_env = False
    timeout = get_settings().provider_timeout_seconds
    transport = SessionTransport(
        session, base_url, timeout=timeout, refresh=lambda: creds.refresh(_token_request(session))
    )
    return ProviderClient(transport, error_table=error_table, limiter=limiter)


def _token_request(session: requests.Session) -> Request:
    # The token endpoint over a plain session: the authorised one would add the refused token.
    plain = requests.Session()
    plain.proxies, plain.trust_env = session.proxies, False
    return Request(plain)


class DiscoveryTransport:
    """googleapiclient: a request it prepared (``resource.list(...)``) is executed here, its
    ``HttpError`` becomes the answer to classify."""

    def __init__(self, creds: Credentials) -> None:
        self.creds = creds

    def send(self, request: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = request.execute(num_retries=0)
        except HttpError as exc:
            try:
                body = json.loads(exc.content or b"{}")
            except ValueError:
                body = {}
            retry_after = exc.resp.get("retry-after") if exc.resp is not None else None
            raise ProviderFailure(
                Failure(
                    exc.status_code,
                    body if isinstance(body, dict) else {},
                    retry_after_seconds(retry_after),
                )
            ) from None
        return answer

    def refresh(self) -> bool:
        self.creds.refresh(Request())
        return True


def discovery_client(
    api: str, creds: Credentials, endpoint: str, *, limiter: Limiter | None = None
) -> tuple[Any, ProviderClient]:
    """A googleapiclient service from the discovery document shipped with the library, and
    the client that sends its requests."""
    http = google_auth_httplib2.AuthorizedHttp(
        creds,
        http=httplib2.Http(timeout=get_settings().provider_timeout_seconds),
        refresh_status_codes=(),  # the error table renews a refused token
    )
    service = build(
        api,
        "v1",
        http=http,
        client_options={"api_endpoint": endpoint},
        static_discovery=True,
        cache_discovery=False,
    )
    client = ProviderClient(DiscoveryTransport(creds), error_table=GoogleErrors(), limiter=limiter)
    return service, client
