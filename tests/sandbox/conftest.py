"""A fresh, small sandbox per test, reached over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from connectors.sandbox import SandboxServer, SandboxState, base_urls

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"
SCOPE = "https://www.googleapis.com/auth/business.manage"


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> Iterator[None]:
    """The sandbox needs no database; this shadows the suite-wide PostgreSQL fixture."""
    yield


@pytest.fixture(scope="session")
def running_server() -> Iterator[SandboxServer]:
    """One listening server for the whole run: stopping uvicorn costs ~0.2 s each time."""
    with SandboxServer(SandboxState()) as running:
        yield running


@pytest.fixture
def state() -> SandboxState:
    return SandboxState.seeded(seed=7, accounts=2, locations=3, reviews_per_location=120)


@pytest.fixture
def server(running_server: SandboxServer, state: SandboxState) -> SandboxServer:
    """The shared server, serving this test's fresh state."""
    running_server.replace_state(state)
    return running_server


@pytest.fixture
def urls(server: SandboxServer) -> dict[str, str]:
    return base_urls(server.url)


@pytest.fixture
def tokens(state: SandboxState) -> dict[str, str]:
    return state.mint_tokens(CLIENT_ID, [SCOPE])


@pytest.fixture
def api(server: SandboxServer, tokens: dict[str, str]) -> Iterator[httpx.Client]:
    """An authorised client for the Google API routes, rooted at the sandbox."""
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        yield client


@pytest.fixture
def admin(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url + "/_admin") as client:
        yield client


@pytest.fixture
def location(state: SandboxState) -> str:
    """The v4 name of the first seeded location."""
    return state.locations_summary()[0]["name"]
