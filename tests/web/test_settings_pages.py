"""The settings pages in Chromium over the public API: alerts, feedback settings with the live
preview of the e-mail and the public page, an outbound webhook and its deliveries, redaction,
retention, a data-subject request, the audit log and the encryption status. Each refusal of
the API shows under the field it names."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import expect

from tests.support import free_port, sign_up, wait_for
from tests.web.conftest import connect_google, log_in, look
from tests.web.test_dashboard import OWNER


@pytest.fixture
def receiver(monkeypatch) -> Iterator[tuple[str, list[bytes]]]:
    """A webhook receiver on loopback (which plaudit api is told it may call), answering 204."""
    monkeypatch.setenv("PLAUDIT_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()


def under(page, label: str):
    """The error announced under the field with this label."""
    return page.locator(".field", has=page.get_by_label(label, exact=True)).get_by_role("alert")


def test_settings_pages(receiver, page, dashboard, sandbox):
    hook_url, received = receiver
    with dashboard.client() as client:
        owner = sign_up(client, OWNER)
    api = dashboard.client(owner["access_token"])
    log_in(page, OWNER["email"], OWNER["password"])
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()

    # Alerts and digests: the member's own
    page.get_by_label("E-mail me each new review rated").select_option("2")
    page.get_by_label("A daily digest of what came in").check()
    page.get_by_role("button", name="Save alerts").click()
    expect(page.get_by_text("Alerts saved.")).to_be_visible()
    assert api.get("/api/v1/alerts").json() == {"immediate_max_rating": 2, "daily_digest": True}

    # Feedback settings: the preview follows the colour as typed; a bad one is named under it
    email = page.frame_locator("iframe[title='Preview of the feedback e-mail']")
    public = page.frame_locator("iframe[title='Preview of the public feedback page']")
    expect(page.locator(".preview-subject")).to_contain_text(OWNER["organisation_name"])
    expect(email.get_by_text("Hello Alex,")).to_be_visible()
    expect(public.get_by_role("button", name="Send feedback")).to_be_visible()
    page.get_by_label("Brand colour").fill("red")
    expect(under(page, "Brand colour")).to_contain_text("#")
    page.get_by_label("Brand colour").fill("#aa3300")
    expect(under(page, "Brand colour")).to_have_count(0)
    button = public.get_by_role("button", name="Send feedback")
    expect(button).to_have_css("background-color", "rgb(170, 51, 0)")
    expect(email.get_by_role("link", name="Give feedback")).to_have_css(
        "background-color", "rgb(170, 51, 0)"
    )
    assert api.get("/api/v1/feedback/settings").json()["brand_colour"] is None  # not saved yet
    page.get_by_label("Reminders").fill("9")
    page.get_by_role("button", name="Save feedback settings").click()
    expect(under(page, "Reminders")).to_be_visible()
    page.get_by_label("Reminders").fill("2")
    page.get_by_role("button", name="Save feedback settings").click()
    expect(page.get_by_text("Feedback settings saved.")).to_be_visible()
    saved = api.get("/api/v1/feedback/settings").json()
    assert (saved["brand_colour"], saved["max_reminders"]) == ("#aa3300", 2)

    # An outbound webhook: a bad address is named; the secret is shown once; deliveries listed
    page.get_by_label("Endpoint URL").fill("not an address")
    page.get_by_role("button", name="Add endpoint").click()
    expect(under(page, "Endpoint URL")).to_be_visible()
    page.get_by_label("Endpoint URL").fill(hook_url)
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.locator("#webhooks .secret")).to_contain_text(re.compile(r"\S{20,}"))
    page.get_by_role("button", name="Deliveries").click()
    expect(page.get_by_text("Nothing delivered yet.")).to_be_visible()
    # A location's first sync imports its history quietly; a review written after it is news.
    locations = httpx.get(f"{sandbox.url}/_admin/locations", timeout=10).json()["locations"]
    connect_google(api)
    expected = sum(location["reviewCount"] for location in locations)

    def synced() -> bool:
        """every review of the first sync is in"""
        return api.get("/api/v1/items/facets").json()["total"] == expected

    wait_for(synced, timeout=30)
    written = httpx.post(
        f"{sandbox.url}/_admin/reviews",
        json={"location": locations[0]["name"], "comment": "Worth a webhook"},
        timeout=10,
    )
    assert written.is_success, written.text
    connection = api.get("/api/v1/connections").json()["connections"][0]

    def sync_accepted() -> bool:
        """ "sync now" is accepted (409 while the first sync's other capabilities run)"""
        return api.post(f"/api/v1/connections/{connection['id']}/sync").status_code == 202

    def delivered() -> bool:
        """the receiver got the new review's item.created"""
        return bool(received)

    wait_for(sync_accepted, timeout=30)
    wait_for(delivered, timeout=30)
    expect(page.locator(".deliveries tbody tr").first).to_contain_text("delivered", timeout=10_000)
    assert b"item.created" in received[0]

    # Redaction: an own pattern that is no regular expression is named under it
    page.get_by_role("button", name="Add a pattern").click()
    page.get_by_label("Name of pattern 1").fill("member")
    page.get_by_label("Pattern 1", exact=True).fill("MBR-([0-9")
    page.get_by_role("button", name="Save redaction").click()
    expect(under(page, "Pattern 1")).to_be_visible()
    page.get_by_label("Pattern 1", exact=True).fill("MBR-[0-9]{6}")
    page.get_by_label("phone").uncheck()
    page.get_by_role("button", name="Save redaction").click()
    expect(page.get_by_text("Redaction saved.")).to_be_visible()
    redaction = api.get("/api/v1/privacy/redaction").json()
    assert redaction["disabled_detectors"] == ["phone"]
    assert redaction["patterns"] == [{"name": "member", "pattern": "MBR-[0-9]{6}"}]

    # Retention: a day count out of range is named under its class
    page.get_by_label("Sync runs: days kept").fill("0")
    page.get_by_role("button", name="Save retention").click()
    expect(under(page, "Sync runs: days kept")).to_be_visible()
    page.get_by_label("Sync runs: days kept").fill("30")
    page.get_by_role("button", name="Save retention").click()
    expect(page.get_by_text("Retention saved.")).to_be_visible()
    assert api.get("/api/v1/privacy/retention").json()["days"]["sync_runs"] == 30

    # A data-subject request: neither e-mail nor reviewer is named; an export completes
    page.get_by_role("button", name="Record request").click()
    expect(under(page, "Person's e-mail")).to_be_visible()
    page.get_by_label("Person's e-mail").fill("ann@example.com")
    page.get_by_role("button", name="Record request").click()
    expect(page.locator(".requests li").first).to_contain_text("done", timeout=30_000)

    # The audit log lists what was just done; the encryption status is shown
    page.reload()
    expect(page.locator(".audit tbody")).to_contain_text("feedback_settings.updated")
    page.get_by_label("Action", exact=True).fill("webhook.created")
    expect(page.locator(".audit tbody tr")).to_have_count(1)
    expect(page.locator("#encryption .facts")).to_contain_text("Current key")
    look(page, "settings")
