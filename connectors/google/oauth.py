"""Google's OAuth web-server flow through google-auth-oauthlib, with PKCE.

The consent URL and the code exchange happen in two separate requests (and the exchange in a
worker), so the PKCE verifier is returned to the caller to keep server-side, never in a cookie.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from connectors.account import TokenSet
from connectors.errors import ConnectFailed
from core.settings import get_settings

SCOPES = ["https://www.googleapis.com/auth/business.manage"]


def _flow(*, redirect_uri: str, state: str | None = None, code_verifier: str | None = None) -> Flow:
    settings = get_settings()
    if settings.insecure_transport:
        # Only the loopback sandbox is plain http; oauthlib refuses it unless told.
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    # A person may grant fewer scopes than asked; we record what was granted instead of failing.
    os.environ["OAUTHLIB_RELAX_TOKEN_SCOPE"] = "1"
    config = {
        "web": {
            "client_id": settings.google_client_id,
            "client_secret": settings.google_client_secret.get_secret_value(),
            "auth_uri": settings.google_auth_uri,
            "token_uri": settings.google_token_uri,
            "redirect_uris": [redirect_uri],
        }
    }
    return Flow.from_client_config(
        config,
        scopes=SCOPES,
        state=state,
        redirect_uri=redirect_uri,
        code_verifier=code_verifier,
        autogenerate_code_verifier=code_verifier is None,
    )


def authorization_url(*, state: str, redirect_uri: str) -> tuple[str, str]:
    """The consent URL to send the person to, and the PKCE verifier to keep server-side."""
    flow = _flow(redirect_uri=redirect_uri, state=state)
    # prompt=consent: Google only issues a refresh token on (re-)consent.
    url, _ = flow.authorization_url(
        prompt="consent", access_type="offline", include_granted_scopes="true"
    )
    assert flow.code_verifier is not None
    return url, flow.code_verifier


def exchange_code(*, code: str, code_verifier: str, redirect_uri: str) -> TokenSet:
    flow = _flow(redirect_uri=redirect_uri, code_verifier=code_verifier)
    try:
        token = flow.fetch_token(code=code)
    except OAuth2Error as exc:
        raise ConnectFailed(f"Google refused the authorization code: {exc.error}") from None
    expires_at = None
    if token.get("expires_at"):
        expires_at = datetime.fromtimestamp(float(token["expires_at"]), tz=UTC)
    scope = token.get("scope") or SCOPES
    scopes = scope.split() if isinstance(scope, str) else list(scope)
    return TokenSet(
        access_token=token["access_token"],
        refresh_token=token.get("refresh_token"),
        expires_at=expires_at,
        scopes=scopes,
    )
