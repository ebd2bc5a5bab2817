"""In Chromium over the public API: connecting Facebook through the sandbox's login dialog from
the connections page, the pages arriving as locations; and a posted Google reply edited and
then deleted with the item page's own controls, the outbox state shown as it moves."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.support import sign_up, wait_for
from tests.web.conftest import connect_google, log_in, look
from tests.web.test_dashboard import OWNER
from tests.workers.facebook_support import fb_admin, use_facebook_app


@pytest.fixture
def facebook_app(configure, sandbox) -> None:
    """plaudit's Facebook app is the sandbox's; asked for before `dashboard`, so that its
    processes start with it."""
    use_facebook_app(configure)


def test_connect_facebook_from_the_connections_page(facebook_app, page, dashboard, sandbox):
    with dashboard.client() as client:
        owner = sign_up(client, OWNER)
    api = dashboard.client(owner["access_token"])
    pages = fb_admin(sandbox, "GET", "/summary")["pages"]
    assert len(pages) >= 2
    log_in(page, OWNER["email"], OWNER["password"])

    page.get_by_role("link", name="Connections").click()
    # Refused in the dialog: back on the page, which says so
    page.get_by_role("button", name="Connect Facebook Pages").click()
    dialog = page.get_by_role("heading", name=re.compile("wants to manage your pages"))
    expect(dialog).to_be_visible()
    page.locator("#deny").click()
    expect(page).to_have_url(re.compile(r"/connections\?error=access_denied$"))
    expect(page.get_by_role("alert")).to_contain_text("Access was not granted")
    # Allowed: connected, and the pages become its locations
    page.get_by_role("button", name="Connect Facebook Pages").click()
    page.locator("#allow").click()
    expect(page).to_have_url(re.compile(r"/connections\?connection_id=\d+$"))
    expect(page.get_by_role("status").first).to_contain_text("Connected")
    card = page.locator(".connection", has=page.get_by_role("heading", name=re.compile("Facebook")))
    expect(card.locator(".status")).to_have_text("active", timeout=30_000)
    expect(card.locator("dd").first).to_have_text(str(len(pages)), timeout=30_000)
    look(page, "connections-facebook")
    names = {location["name"] for location in api.get("/api/v1/locations").json()["locations"]}
    assert names == {p["name"] for p in pages}

    # The inbox offers each page as a location, and fills with the pages' items
    def arrived() -> bool:
        """the first sync brought the pages' items"""
        return api.get("/api/v1/items/facets", params={"source": "facebook"}).json()["total"] > 0

    wait_for(arrived, timeout=30)
    page.get_by_role("link", name="Inbox").click()
    options = page.get_by_label("Location").locator("option")
    expect(options).to_have_text(["All locations", *sorted(names)], timeout=15_000)
    page.get_by_label("Source").select_option("facebook")
    expect(page.locator(".items > li").first).to_contain_text("Facebook")


def test_edit_and_delete_a_posted_reply(page, dashboard, sandbox):
    with dashboard.client() as client:
        owner = sign_up(client, OWNER)
    api = dashboard.client(owner["access_token"])
    connect_google(api)

    def a_review() -> int | None:
        """a Google review without a reply is synced"""
        items = api.get(
            "/api/v1/items", params={"replied": "false", "kind": "review", "source": "google"}
        ).json()["items"]
        return items[0]["id"] if items else None

    item_id = wait_for(a_review, timeout=30)
    first = api.post(f"/api/v1/items/{item_id}/reply", json={"text": "Thank you for coming!"})
    assert first.status_code == 202, first.text

    def posted() -> bool:
        """the reply is sent and shown on the item"""
        item = api.get(f"/api/v1/items/{item_id}").json()
        return (item["reply"] or {}).get("text") == "Thank you for coming!"

    wait_for(posted, timeout=30)
    log_in(page, OWNER["email"], OWNER["password"])
    page.goto(f"/inbox/{item_id}")
    shown = page.locator(".provider-reply")
    expect(shown.locator(".body")).to_have_text("Thank you for coming!")

    # Edit: a control of its own, the posted text to start from, the edit's state as it moves
    shown.get_by_role("button", name="Edit reply").click()
    editor = shown.get_by_label("Edited reply")
    expect(editor).to_have_value("Thank you for coming!")
    expect(shown.get_by_role("button", name="Save the edit")).to_be_disabled()  # unchanged
    editor.fill("Thank you for coming! See you soon.")
    look(page, "item-edit-reply")
    shown.get_by_role("button", name="Save the edit").click()
    expect(shown.locator(".reply-change")).to_contain_text("Edit:")
    expect(shown.locator(".reply-change .state")).to_have_text("Sent", timeout=30_000)
    edited = "Thank you for coming! See you soon."
    expect(shown.locator(".body")).to_have_text(edited, timeout=30_000)
    assert reply_calls(sandbox)[-1] == ("PUT", edited)

    # Delete: asked once more on the page, then gone at Google and from the item
    shown.get_by_role("button", name="Delete reply").click()
    confirm = page.get_by_role("group", name="Delete the reply")
    expect(confirm).to_contain_text("Delete this reply at Google?")
    look(page, "item-delete-reply")
    confirm.get_by_role("button", name="Keep it").click()
    expect(confirm).to_have_count(0)
    shown.get_by_role("button", name="Delete reply").click()
    confirm.get_by_role("button", name="Delete at Google").click()
    expect(shown.locator(".reply-change")).to_contain_text("Deletion:")
    expect(shown.locator(".reply-change .state")).to_have_text("Sent", timeout=30_000)
    expect(shown).to_contain_text("No reply is shown now.", timeout=30_000)
    expect(shown.get_by_role("button", name="Edit reply")).to_have_count(0)

    assert reply_calls(sandbox) == [
        ("PUT", "Thank you for coming!"),
        ("PUT", "Thank you for coming! See you soon."),
        ("DELETE", None),
    ]


def reply_calls(sandbox) -> list[tuple[str, str | None]]:
    """The reply writes Google (the sandbox) accepted, in order."""
    calls = httpx.get(f"{sandbox.url}/_admin/replies", timeout=10).json()
    return [(c["method"], c["comment"]) for c in calls if c["status"] < 400]
