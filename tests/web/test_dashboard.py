"""A business owner's first day in the dashboard, in Chromium, over the public API only:
sign up, confirm from the e-mail, log out and in, connect Google through the sandbox's consent
page, watch the inbox fill, filter, search, scroll, reply with the keyboard, and see the reply
reach `sent` and the sandbox. A revoked session lands on the login page with a message."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import httpx
from playwright.sync_api import expect

from tests.support import emailed_link, sign_up, wait_for
from tests.web.conftest import PHONE, look

OWNER = {
    "email": "olive@bakery.example",
    "password": "correct horse battery",
    "name": "Olive Owner",
    "organisation_name": "Olive's Bakery",
}


def sandbox_reviews(sandbox) -> list[dict]:
    response = httpx.get(f"{sandbox.url}/_admin/locations", timeout=10)
    return response.json()["locations"]


def test_sign_up_connect_google_and_reply_from_the_inbox(page, dashboard, sandbox):
    # Sign up: the API answers 202 and e-mails a link
    page.goto("/signup")
    look(page, "signup")
    page.get_by_label("Your name").fill(OWNER["name"])
    page.get_by_label("Business name").fill(OWNER["organisation_name"])
    page.get_by_label("E-mail").fill(OWNER["email"])
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    # The API's refusal is shown under the field it names
    password_field = page.locator(".field", has=page.get_by_label("Password"))
    expect(password_field.get_by_role("alert")).to_contain_text("10")
    page.get_by_label("Password").fill(OWNER["password"])
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    # The e-mailed link opens the dashboard, which confirms and logs in
    link = emailed_link(OWNER["email"])
    assert link.startswith(dashboard.url + "/confirm-signup#token=")
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/connections$"))
    expect(page.get_by_text("No connections yet.")).to_be_visible()

    # Log out, and back in
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    look(page, "login")
    page.get_by_label("E-mail").fill(OWNER["email"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_label("Password").fill(OWNER["password"])
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.get_by_text("Nothing here yet")).to_be_visible()

    # Connect Google: the sandbox's consent page, and back to the app, whatever one answers
    page.get_by_role("link", name="Connections").click()
    page.get_by_role("button", name="Connect Google Business Profile").click()
    page.locator("#deny").click()
    expect(page).to_have_url(re.compile(r"/connections\?error=access_denied$"))
    expect(page.get_by_role("alert")).to_contain_text("Access was not granted")
    page.get_by_role("button", name="Connect Google Business Profile").click()
    page.locator("#allow").click()
    expect(page).to_have_url(re.compile(r"/connections\?connection_id=\d+$"))
    expect(page.get_by_role("status").first).to_contain_text("Connected")
    card = page.locator(".connection")
    expect(card.locator(".status")).to_have_text("active", timeout=30_000)
    expect(card.locator("dd").first).to_have_text("2", timeout=30_000)
    expect(card.locator("dd").nth(1)).not_to_have_text("—", timeout=30_000)
    look(page, "connections")
    page.get_by_role("button", name="Sync now").click()
    expect(card.get_by_role("button", name="Sync requested")).to_be_visible()
    card.get_by_role("button", name="Show recent syncs").click()
    expect(card.locator(".runs tbody tr").first).to_be_visible()

    # The inbox fills with every review of the sandbox, 50 a page, the rest on scrolling
    locations = sandbox_reviews(sandbox)
    expected = sum(location["reviewCount"] for location in locations)
    assert expected > 50
    api = dashboard.client(login_token(dashboard))

    def all_synced() -> bool:
        """every sandbox review is in the inbox"""
        return api.get("/api/v1/items/facets").json()["total"] == expected

    wait_for(all_synced, timeout=30)
    page.get_by_role("link", name="Inbox").click()
    rows = page.locator(".items > li")
    expect(page.locator(".count")).to_contain_text(f"{expected} items")
    expect(rows).to_have_count(50)
    page.locator(".more").scroll_into_view_if_needed()
    expect(rows).to_have_count(expected)
    look(page, "inbox")

    # Filters are held in the URL, so a shared link opens the same view
    page.get_by_label("Rating").select_option("5")
    expect(page).to_have_url(re.compile(r"[?&]rating=5"))
    five = api.get("/api/v1/items/facets", params={"rating": 5}).json()["total"]
    expect(rows).to_have_count(min(five, 50))
    stars = page.locator(".items .stars")
    assert set(stars.evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")) == {
        "5 of 5 stars"
    }
    page.get_by_label("Replied").select_option("false")
    shared = page.url
    page.goto(shared)
    expect(page.get_by_label("Rating")).to_have_value("5")
    expect(page.get_by_label("Replied")).to_have_value("false")

    # The same view as a CSV file
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    exported = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    unreplied = {"rating": 5, "replied": "false"}
    assert len(exported) - 1 == api.get("/api/v1/items/facets", params=unreplied).json()["total"]

    # Search, with the / key
    word = first_word_of_a_review(api)
    page.get_by_label("Rating").select_option("")
    page.get_by_label("Replied").select_option("")
    page.locator("body").press("Escape")
    page.keyboard.press("/")
    expect(page.get_by_label("Search")).to_be_focused()
    page.keyboard.type(word)
    expect(page).to_have_url(re.compile(rf"[?&]q={word}"))
    matching = api.get("/api/v1/items", params={"q": word, "limit": 100}).json()["items"]
    expect(rows).to_have_count(len(matching))
    page.get_by_label("Search").fill("")
    expect(page).not_to_have_url(re.compile(r"q="))

    # j/k move through the list, r opens the selected item with the composer focused
    page.get_by_label("Replied").select_option("false")
    expect(page).to_have_url(re.compile(r"replied=false"))
    # The keys move over the list on screen: wait for the filtered one, not the one before it.
    unreplied = api.get("/api/v1/items", params={"replied": "false", "limit": 2}).json()["items"]
    expect(rows.nth(1).locator("a")).to_have_attribute("href", f"/inbox/{unreplied[1]['id']}")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(rows.nth(1)).to_have_class("selected")
    target = rows.nth(1).locator("a").get_attribute("href")
    page.keyboard.press("r")
    expect(page).to_have_url(re.compile(rf"{target}#reply$"))
    composer = page.get_by_label("Reply", exact=True)
    expect(composer).to_be_focused()
    look(page, "item")

    # The provider's limit is counted live, in UTF-8 bytes for Google
    composer.fill("é" * 2049)
    expect(page.locator(".composer .count")).to_contain_text("4,098 / 4,096 bytes")
    expect(page.get_by_role("button", name="Send reply")).to_be_disabled()

    # An error of the API is shown under the field
    composer.fill("Pay with 4111 1111 1111 1111 next time")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".composer [role=alert]")).to_contain_text("never published")

    # A reply goes out: queued, then sent, and the sandbox has it
    composer.fill("Thank you, come again!")
    expect(page.locator(".composer .count")).to_contain_text("22 / 4,096 bytes")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".outbox .state").first).to_have_text("Sent", timeout=30_000)
    at_google = httpx.get(f"{sandbox.url}/_admin/replies", timeout=10).json()
    assert [r["comment"] for r in at_google if r["status"] < 400] == ["Thank you, come again!"]
    shown = page.locator(".provider-reply")
    expect(shown).to_contain_text("Thank you, come again!", timeout=30_000)

    # Triage: a note for the team, tags, and closing the item
    item_id = int(target.rsplit("/", 1)[1])
    page.get_by_placeholder("A note for the team").fill("A regular: knows the owner")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".notes li")).to_contain_text("A regular: knows the owner")
    page.get_by_label("Tags (comma-separated)").fill("Praise, staff")
    page.get_by_role("button", name="Save tags").click()
    expect(page.get_by_label("Tags (comma-separated)")).to_have_value("Praise, staff")
    page.get_by_label("Status").select_option("closed")

    def triaged() -> bool:
        """the item is closed and tagged"""
        item = api.get(f"/api/v1/items/{item_id}").json()
        return item["status"] == "closed" and item["tags"] == ["praise", "staff"]

    wait_for(triaged)

    # Analytics: figures and a chart of the same items
    page.get_by_role("link", name="Analytics").click()
    expect(page.locator(".figures dd").first).to_have_text(str(expected))
    expect(page.locator(".chart canvas")).to_be_visible()
    expect(page.locator(".analytics tbody th", has_text=locations[0]["title"])).to_be_visible()
    look(page, "analytics")
    page.go_back()

    # At phone width the inbox is still usable; `e` closes the selected item
    page.set_viewport_size(PHONE)
    page.go_back()
    expect(rows.first).to_be_visible()
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    selected = page.locator(".items > li.selected a")
    closing = int(selected.get_attribute("href").rsplit("/", 1)[1])
    page.keyboard.press("e")

    def closed() -> bool:
        """the selected item is closed"""
        return api.get(f"/api/v1/items/{closing}").json()["status"] == "closed"

    wait_for(closed)


def test_a_revoked_session_lands_on_the_login_page_with_a_message(page, dashboard, sandbox):
    with dashboard.client() as client:
        owner = sign_up(client, OWNER)
    page.goto("/inbox")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_label("E-mail").fill(OWNER["email"])
    page.get_by_label("Password").fill(OWNER["password"])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()

    # A reload loses the access token (kept in memory only): the session refreshes itself
    page.reload()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(page.locator(".org")).to_have_text(OWNER["organisation_name"])

    # Every session of the person ends (say, from another device)
    with dashboard.client(owner["access_token"]) as client:
        assert client.post("/api/v1/auth/logout-everywhere").status_code == 204

    # The next request is refused, the refresh too: the login page says why
    page.get_by_role("link", name="Connections").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_contain_text("Your session has ended")
    # And logging in again returns to where the person was
    page.get_by_label("E-mail").fill(OWNER["email"])
    page.get_by_label("Password").fill(OWNER["password"])
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/connections$"))


def login_token(dashboard, password: str = OWNER["password"]) -> str:
    response = httpx.post(
        f"{dashboard.url}/api/v1/auth/login",
        json={"email": OWNER["email"], "password": password},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def first_word_of_a_review(api: httpx.Client) -> str:
    """A word of at least six letters from some review, to search for."""
    for item in api.get("/api/v1/items", params={"limit": 100}).json()["items"]:
        for word in re.findall(r"[A-Za-z]{6,}", item["text"] or ""):
            return word.lower()
    raise AssertionError("no review has a long enough word")


def test_the_links_of_the_account_emails_open_dashboard_pages(page, dashboard, sandbox):
    with dashboard.client() as client:
        owner = sign_up(client, OWNER)

    # A forgotten password: ask for a link, follow it, choose a new password, logged in
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    look(page, "reset-request")
    page.get_by_label("E-mail").fill(OWNER["email"])
    page.get_by_role("button", name="E-mail me a link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    def reset_link() -> str | None:
        """the reset e-mail is queued"""
        link = emailed_link(OWNER["email"])
        return link if "/reset-password#token=" in link else None

    link = wait_for(reset_link)
    assert link.startswith(dashboard.url + "/reset-password#token=")
    page.goto(link)
    look(page, "reset-choose")
    page.get_by_label("New password").fill("password")
    page.get_by_role("button", name="Set password and log in").click()
    field = page.locator(".field", has=page.get_by_label("New password"))
    expect(field.get_by_role("alert")).to_be_visible()  # too easily guessed, under the field
    page.get_by_label("New password").fill("a much better passphrase 42")
    page.get_by_role("button", name="Set password and log in").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    # The old session ended with the reset
    with dashboard.client(owner["access_token"]) as client:
        assert client.get("/api/v1/me").status_code == 401

    # An invitation: a new person joins with a name and a password
    with dashboard.client(login_token(dashboard, "a much better passphrase 42")) as client:
        invited = client.post(
            "/api/v1/invitations", json={"email": "rita@bakery.example", "role": "responder"}
        )
        assert invited.status_code == 201, invited.text
    page.get_by_role("button", name="Log out").click()
    link = emailed_link("rita@bakery.example")
    assert link.startswith(dashboard.url + "/accept-invitation#token=")
    page.goto(link)
    look(page, "invitation")
    page.get_by_label("Your name").fill("Rita Responder")
    page.get_by_label("Password").fill("rita's own long passphrase")
    page.get_by_role("button", name="Accept the invitation").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(page.locator(".org")).to_have_text(OWNER["organisation_name"])
