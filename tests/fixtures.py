"""Building blocks shared by worker and end-to-end tests: a sandbox, a connected organisation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy.orm import Session

from connectors.google import oauth
from connectors.sandbox.server import SandboxServer, base_urls
from connectors.sandbox.state import SandboxState
from core import crypto
from models import Connection, ConnectionStatus, Membership, Organisation, Role, User

CALLBACK = "http://127.0.0.1:9/api/v1/connections/google/callback"


@pytest.fixture
def serve_sandbox(configure: Callable[..., None]) -> Iterator[Callable[..., SandboxServer]]:
    """Start a fresh sandbox of the given size, with plaudit's provider URLs pointed at it
    until the test ends: ``serve_sandbox(locations=2, reviews_per_location=120)``."""
    with ExitStack() as servers:

        def serve(locations: int = 2, reviews_per_location: int = 30) -> SandboxServer:
            state = SandboxState.seeded(
                seed=7, locations=locations, reviews_per_location=reviews_per_location
            )
            server = SandboxServer(state).start()
            # Not waited for: a stop takes a tick of uvicorn's loop, and nothing reuses the port.
            servers.callback(server.stop, wait=False)
            configure(**base_urls(server.url))
            return server

        yield serve


@pytest.fixture
def sandbox(serve_sandbox: Callable[..., SandboxServer]) -> SandboxServer:
    """A fresh sandbox (2 locations × 30 reviews) with plaudit's provider URLs pointed at it."""
    return serve_sandbox()


def consent(auth_url: str) -> dict[str, str]:
    """Click "Allow" on the sandbox's consent page; returns the callback's query."""
    response = httpx.get(auth_url + "&sandbox_decision=allow", follow_redirects=False)
    assert response.status_code in (302, 303), response.text
    query = parse_qs(urlparse(response.headers["location"]).query)
    return {key: values[0] for key, values in query.items()}


def owned_organisation(session: Session, name: str, owner_email: str) -> Organisation:
    """A new organisation and its owner (flushed, not committed)."""
    organisation = Organisation(name=name)
    user = User(
        email=owner_email,
        email_index=crypto.blind_index(owner_email),
        name="Owner",
        password_hash="x",
    )
    session.add_all([organisation, user])
    session.flush()
    session.add(Membership(organisation_id=organisation.id, user_id=user.id, role=Role.OWNER))
    return organisation


def connect_google(session: Session) -> Connection:
    """An organisation with an owner and an active Google connection, tokens from the sandbox."""
    organisation = owned_organisation(session, "Bakery", "owner@example.com")
    url, verifier = oauth.authorization_url(state="s1", redirect_uri=CALLBACK)
    code = consent(url)["code"]
    tokens = oauth.exchange_code(code=code, code_verifier=verifier, redirect_uri=CALLBACK)
    connection = Connection(
        organisation_id=organisation.id,
        provider="google",
        status=ConnectionStatus.ACTIVE,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        token_expires_at=tokens.expires_at,
        scopes=tokens.scopes,
        capabilities={},
    )
    session.add(connection)
    session.commit()
    return connection


def google_twin(session: Session, first: Connection, *, organisation_name: str) -> Connection:
    """Another organisation with a connection on the same Google grant as ``first``: the same
    sandbox account seen by several tenants, as the shared-quota tests and benches need."""
    organisation = Organisation(name=organisation_name)
    session.add(organisation)
    session.flush()
    twin = Connection(
        organisation_id=organisation.id,
        provider="google",
        status=ConnectionStatus.ACTIVE,
        access_token=first.access_token,
        refresh_token=first.refresh_token,
        token_expires_at=first.token_expires_at,
        scopes=first.scopes,
        capabilities=first.capabilities,
    )
    session.add(twin)
    session.flush()
    return twin
