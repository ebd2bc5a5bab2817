"""The connections page in Chromium: a Facebook connection shows the person's name and what
the pinned Graph API version's end means (PROVIDERS.md §G.4)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support import sign_up
from tests.web.conftest import look
from tests.web.test_dashboard import OWNER
from tests.web.test_team_pages import log_in
from tests.workers.facebook_support import allow, use_facebook_app


@pytest.fixture
def pinned_v20(configure) -> None:
    """Facebook is the sandbox, pinned to v20.0 (ended 2026-09-24), before plaudit starts."""
    use_facebook_app(configure, facebook_graph_version="v20.0")


def test_a_facebook_connection_shows_its_label_and_the_version_warning(
    pinned_v20, page, dashboard, sandbox
):
    with dashboard.client() as client:
        owner = sign_up(client, OWNER)
    with dashboard.client(owner["access_token"]) as api:
        start = api.post("/api/v1/connections/facebook/authorize", json={}).json()
        callback = api.get(
            "/api/v1/connections/facebook/callback", params=allow(start["authorization_url"])
        )
        assert callback.status_code == 200, callback.text
    log_in(page, OWNER["email"], OWNER["password"])

    page.get_by_role("link", name="Connections").click()

    card = page.locator(".connection")
    expect(card.locator("h2")).to_contain_text("Sandbox Manager", timeout=30_000)
    warning = card.get_by_role("list", name="Warnings").locator("[data-code=version_ended]")
    expect(warning).to_contain_text("v20.0 ended on 2026-09-24")
    look(page, "connections-facebook-warning")
