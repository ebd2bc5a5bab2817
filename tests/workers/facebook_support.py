"""Facebook building blocks for tests: the app's settings, the dialog, a connected page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.orm import Session

from connectors.facebook import oauth
from connectors.sandbox.facebook_state import APP_ID, APP_SECRET
from connectors.sandbox.server import SandboxServer
from models import Connection, ConnectionStatus
from tests.fixtures import consent, owned_organisation

CALLBACK = "http://127.0.0.1:9/api/v1/connections/facebook/callback"
VERIFY_TOKEN = "sandbox-verify-token"


def use_facebook_app(configure: Callable[..., Any], **settings: Any) -> None:
    """plaudit's Facebook app is the sandbox's (its URLs come with the `sandbox` fixture), for
    this test (``configure`` is the fixture)."""
    configure(
        facebook_app_id=APP_ID,
        facebook_app_secret=APP_SECRET,
        facebook_webhook_verify_token=VERIFY_TOKEN,
        **{"facebook_graph_version": "v22.0", **settings},
    )


# The login dialog's "Continue" works like Google's consent page: a redirect to the callback.
allow = consent


def fb_admin(sandbox: SandboxServer, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, f"{sandbox.url}/_admin/facebook{path}", timeout=10, **kwargs)
    assert response.status_code < 400, response.text
    return response.json()


def connect_facebook(session: Session) -> Connection:
    """An organisation with an owner and an active Facebook connection from the dialog."""
    organisation = owned_organisation(session, "Café", "fb-owner@example.com")
    url, verifier = oauth.authorization_url(state="s1", redirect_uri=CALLBACK)
    code = allow(url)["code"]
    tokens = oauth.exchange_code(code=code, code_verifier=verifier, redirect_uri=CALLBACK)
    connection = Connection(
        organisation_id=organisation.id,
        provider="facebook",
        status=ConnectionStatus.ACTIVE,
        access_token=tokens.access_token,
        token_expires_at=tokens.expires_at,
        scopes=tokens.scopes,
        capabilities={},
    )
    session.add(connection)
    session.commit()
    return connection


def connect_through_api(api: httpx.Client) -> int:
    """Authorize, allow in the dialog, come back to the callback; the connection's id."""
    start = api.post("/api/v1/connections/facebook/authorize", json={})
    assert start.status_code == 200, start.text
    callback = api.get(
        "/api/v1/connections/facebook/callback", params=allow(start.json()["authorization_url"])
    )
    assert callback.status_code == 200, callback.text
    return callback.json()["connection"]["id"]
