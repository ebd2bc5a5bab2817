"""Connecting Facebook pages: the login dialog, then code → user token → long-lived token.

Facebook's dialog takes no PKCE verifier from a server-side app; the app secret authenticates
the exchange instead, so the verifier kept server-side is empty.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from connectors import errors
from connectors.account import TokenSet
from connectors.facebook.graph import GraphClient, version
from core.settings import get_settings

# What the features need (README, "Facebook"): listing pages, reading their engagement, ratings,
# comments and tagged posts, replying, and subscribing the app to page webhooks.
PERMISSIONS = [
    "pages_show_list",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_engagement",
    "pages_manage_metadata",
]


def authorization_url(*, state: str, redirect_uri: str) -> tuple[str, str]:
    settings = get_settings()
    query = urlencode(
        {
            "client_id": settings.facebook_app_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "scope": ",".join(PERMISSIONS),
            "response_type": "code",
        }
    )
    return f"{settings.facebook_dialog_url.rstrip('/')}/{version()}/dialog/oauth?{query}", ""


def exchange_code(*, code: str, code_verifier: str, redirect_uri: str) -> TokenSet:
    """The long-lived user token (about 60 days) and the permissions the person granted."""
    settings = get_settings()
    app_id, secret = settings.facebook_app_id, settings.facebook_app_secret.get_secret_value()
    try:
        short = GraphClient(None).sdk(
            lambda graph: graph.get_access_token_from_code(code, redirect_uri, app_id, secret)
        )
        user = GraphClient(short["access_token"])
        extended: dict[str, Any] = user.sdk(lambda graph: graph.extend_access_token(app_id, secret))
        granted = GraphClient(extended["access_token"]).sdk(
            lambda graph: graph.get_permissions("me")
        )
    except (errors.ProviderError, KeyError, TypeError) as exc:
        raise errors.ConnectFailed(f"Facebook refused the authorization code: {exc}") from None
    expires_in = extended.get("expires_in")
    expires_at = (
        datetime.now(UTC) + timedelta(seconds=int(expires_in))
        if isinstance(expires_in, int | float)
        else None
    )
    return TokenSet(
        access_token=extended["access_token"],
        refresh_token=None,
        expires_at=expires_at,
        scopes=sorted(granted),
    )
