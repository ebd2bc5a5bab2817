"""The inbox's filters by assignee, tag and date range, in Chromium: held in the URL (a shared
link opens the same view), counted by the facets, and a refused value named under its control."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from tests.support import sign_up, wait_for
from tests.web.conftest import connect_google, log_in
from tests.web.test_dashboard import OWNER


def test_filters_by_assignee_tag_and_dates(page, dashboard, sandbox):
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
    me = api.get("/api/v1/me").json()["user"]["id"]
    oldest_first = api.get("/api/v1/items", params={"sort": "oldest", "limit": 100}).json()["items"]
    first, second, third = oldest_first[:3]
    for item, body in (
        (first, {"assignee_user_id": me, "tags": ["vip"]}),
        (second, {"tags": ["vip", "follow-up"]}),
        (third, {"assignee_user_id": me}),
    ):
        assert api.patch(f"/api/v1/items/{item['id']}", json=body).is_success

    log_in(page, OWNER["email"], OWNER["password"])
    count = page.locator(".count")
    expect(count).to_contain_text(f"{expected} items")

    page.get_by_label("Assignee").select_option(label=OWNER["name"])
    expect(count).to_contain_text("2 items")
    expect(page).to_have_url(re.compile(rf"assignee={me}"))
    page.get_by_label("Tags").fill("vip")
    page.get_by_label("Tags").press("Enter")
    expect(count).to_contain_text("1 item")
    expect(page.locator(".items li")).to_have_count(1)
    page.get_by_label("Assignee").select_option("none")
    expect(count).to_contain_text("1 item")  # the second: tagged vip, nobody's
    page.get_by_label("Tags").fill("vip, follow-up")
    page.get_by_label("Tags").press("Enter")
    expect(page).to_have_url(re.compile(r"tag=vip&tag=follow-up"))
    expect(count).to_contain_text("1 item")

    # A shared link opens the same view
    shared = page.url
    page.goto(shared)
    expect(count).to_contain_text("1 item")
    expect(page.get_by_label("Tags")).to_have_value("vip, follow-up")
    expect(page.get_by_label("Assignee")).to_have_value("none")

    # The date range: up to the oldest item's day holds it; a date the API refuses is named
    day = first["posted_at"][:10]
    page.goto(f"/inbox?until={day}")
    expect(page.get_by_label("Posted until")).to_have_value(day)
    within = api.get("/api/v1/items/facets", params={"until": day}).json()["total"]
    assert 1 <= within < expected
    expect(count).to_contain_text(f"{within} item")
    page.get_by_label("Posted from").fill("2999-01-01")
    expect(page.get_by_text("Nothing here with these filters.")).to_be_visible()
    page.goto("/inbox?since=yesterday-ish")
    field = page.locator("label", has=page.get_by_label("Posted from"))
    expect(field.get_by_role("alert")).to_be_visible()
