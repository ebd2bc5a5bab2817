"""The pages beyond the inbox, in Chromium over the public API: team and settings (reply
approval, an invitation, an API key shown once), a feedback campaign with a CSV upload whose
bad lines are named, and the approvals queue where a manager lets a responder's reply go."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.support import emailed_link, sign_up, wait_for
from tests.web.conftest import connect_google, log_in, look
from tests.web.test_dashboard import OWNER

RESPONDER = {"email": "rita@bakery.example", "password": "rita's own long passphrase"}
CSV = "name,email\nAnn,ann@example.com\nBob,not-an-address\nCy,cy@example.com\n"


def test_team_campaigns_and_approvals(page, dashboard, sandbox, tmp_path):
    with dashboard.client() as client:
        owner = sign_up(client, OWNER)
    api = dashboard.client(owner["access_token"])
    log_in(page, OWNER["email"], OWNER["password"])

    # Team and settings: replies of responders wait for approval; invite one; an API key
    page.get_by_role("link", name="Team").click()
    expect(page.get_by_role("row", name=re.compile(OWNER["name"]))).to_be_visible()
    approval = page.get_by_label("Replies by responders wait for a manager's approval")
    approval.click()  # the box follows the saved setting, so it flips when the API answers
    expect(approval).to_be_checked()
    page.get_by_label("E-mail to invite").fill("not an address")
    page.get_by_role("button", name="Send invitation").click()
    invite_field = page.locator(".field", has=page.get_by_label("E-mail to invite"))
    expect(invite_field.get_by_role("alert")).to_be_visible()
    page.get_by_label("E-mail to invite").fill(RESPONDER["email"])
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(f"{RESPONDER['email']} as responder")).to_be_visible()
    page.get_by_label("Key name").fill("Till")
    page.get_by_role("button", name="Create key").click()
    key = page.locator(".secret").inner_text()
    assert api.get("/api/v1/items", headers={"X-API-Key": key, "Authorization": ""}).is_success
    look(page, "team")
    assert api.get("/api/v1/organisation").json()["reply_approval_required"] is True

    # A campaign: a CSV upload; the refused line is named with its reason
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_label("Campaign name").fill("Spring visits")
    page.get_by_role("button", name="Create campaign").click()
    page.get_by_role("link", name="Spring visits").click()
    csv = tmp_path / "visits.csv"
    csv.write_text(CSV)
    page.get_by_label(re.compile("Recipients as CSV")).set_input_files(str(csv))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".notice")).to_contain_text("2 added")
    refused = page.locator(".rejected tbody tr")
    expect(refused).to_have_count(1)
    expect(refused.first.locator("td").first).to_have_text("3")
    expect(page.locator(".runs").last.locator("tbody tr")).to_have_count(2)
    look(page, "campaign")

    # A connected Google account, and the responder joining through the e-mailed link
    connect_google(api)
    token = emailed_link(RESPONDER["email"]).split("#token=", 1)[1]
    joined = httpx.post(
        f"{dashboard.url}/api/v1/invitations/accept",
        json={"token": token, "name": "Rita", "password": RESPONDER["password"]},
        timeout=10,
    )
    assert joined.status_code == 200, joined.text
    responder = dashboard.client(joined.json()["access_token"])

    def an_item() -> int | None:
        """the first reviews are synced"""
        items = api.get("/api/v1/items", params={"replied": "false"}).json()["items"]
        return items[0]["id"] if items else None

    item_id = wait_for(an_item, timeout=30)
    reply = responder.post(f"/api/v1/items/{item_id}/reply", json={"text": "Thanks, Rita here"})
    assert reply.json()["reply"]["status"] == "awaiting_approval", reply.text

    # The manager's queue: approve, and the reply goes out
    page.get_by_role("link", name="Approvals").click()
    expect(page.locator(".outbox li")).to_contain_text("Thanks, Rita here")
    look(page, "approvals")
    page.get_by_role("button", name="Approve and send").click()
    expect(page.get_by_text("No reply is waiting for approval.")).to_be_visible()

    def sent() -> bool:
        """the approved reply is sent"""
        reply_id = reply.json()["reply"]["id"]
        return api.get(f"/api/v1/replies/{reply_id}").json()["reply"]["status"] == "sent"

    wait_for(sent, timeout=30)


def test_a_member_limited_to_one_location_sees_only_its_items(page, dashboard, sandbox):
    with dashboard.client() as client:
        owner = sign_up(client, OWNER)
    api = dashboard.client(owner["access_token"])
    connect_google(api)
    expected = sum(
        location["reviewCount"]
        for location in httpx.get(f"{sandbox.url}/_admin/locations", timeout=10).json()["locations"]
    )

    def synced() -> bool:
        """every review is in"""
        return api.get("/api/v1/items/facets").json()["total"] == expected

    wait_for(synced, timeout=30)
    here, elsewhere = api.get("/api/v1/locations").json()["locations"][:2]
    invited = api.post(
        "/api/v1/invitations",
        json={"email": RESPONDER["email"], "role": "responder", "location_ids": [here["id"]]},
    )
    assert invited.status_code == 201, invited.text
    token = emailed_link(RESPONDER["email"]).split("#token=", 1)[1]
    joined = httpx.post(
        f"{dashboard.url}/api/v1/invitations/accept",
        json={"token": token, "name": "Rita", "password": RESPONDER["password"]},
        timeout=10,
    )
    assert joined.status_code == 200, joined.text
    theirs = api.get("/api/v1/items/facets", params={"location_id": here["id"]}).json()["total"]
    assert 0 < theirs < expected

    log_in(page, RESPONDER["email"], RESPONDER["password"])
    expect(page.locator(".count")).to_contain_text(f"{theirs} items")
    options = page.get_by_label("Location").locator("option")
    expect(options).to_have_text(["All locations", here["name"]])
    other = api.get("/api/v1/items", params={"location_id": elsewhere["id"], "limit": 1})
    page.goto(f"/inbox/{other.json()['items'][0]['id']}")
    expect(page.get_by_role("alert")).to_contain_text("Item not found")
