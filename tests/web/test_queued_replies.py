"""In Chromium: a reply still in the outbox edited and another cancelled from the item page,
while no worker is there to send them; then a worker comes, sends the edited text, and the
cancelled one never reaches Google."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support import Process, sign_up, wait_for
from tests.web.conftest import connect_google, log_in, look
from tests.web.test_dashboard import OWNER
from tests.web.test_facebook_and_replies import reply_calls


def test_edit_and_cancel_a_queued_reply(page, dashboard, sandbox):
    with dashboard.client() as client:
        owner = sign_up(client, OWNER)
    api = dashboard.client(owner["access_token"])
    connect_google(api)

    def two_reviews() -> list[int] | None:
        """two Google reviews without a reply are synced"""
        items = api.get(
            "/api/v1/items", params={"replied": "false", "kind": "review", "source": "google"}
        ).json()["items"]
        return [i["id"] for i in items[:2]] if len(items) >= 2 else None

    kept, withdrawn = wait_for(two_reviews, timeout=30)
    # Given no worker: what is queued stays queued
    dashboard.worker.stop()
    for item_id, text in ((kept, "Thanks for visting!"), (withdrawn, "Sent by mistake")):
        assert api.post(f"/api/v1/items/{item_id}/reply", json={"text": text}).status_code == 202
    log_in(page, OWNER["email"], OWNER["password"])

    # Edit: the queued text to start from, saved in place, still queued
    page.goto(f"/inbox/{kept}")
    queued = page.locator(".outbox li").first
    expect(queued.locator(".state")).to_have_text("Queued")
    queued.get_by_role("button", name="Edit").click()
    editor = queued.get_by_label("Queued reply")
    expect(editor).to_have_value("Thanks for visting!")
    expect(queued.get_by_role("button", name="Save the reply")).to_be_disabled()  # unchanged
    editor.fill("Thanks for visiting!")
    look(page, "item-queued-reply-edit")
    queued.get_by_role("button", name="Save the reply").click()
    expect(queued.locator(".body")).to_have_text("Thanks for visiting!")
    expect(queued.locator(".state")).to_have_text("Queued")
    (row,) = api.get(f"/api/v1/items/{kept}").json()["replies"]
    assert (row["status"], row["body"]) == ("pending", "Thanks for visiting!")

    # Cancel: withdrawn at once, no control left on it
    page.goto(f"/inbox/{withdrawn}")
    mistaken = page.locator(".outbox li").first
    expect(mistaken.locator(".state")).to_have_text("Queued")
    mistaken.get_by_role("button", name="Cancel").click()
    expect(mistaken.locator(".state")).to_have_text("Cancelled")
    expect(mistaken.get_by_role("button")).to_have_count(0)

    # Then a worker sends what is queued: the edited text, live on the page, and nothing else
    worker = Process("worker", "--threads", "2")
    try:
        page.goto(f"/inbox/{kept}")
        expect(page.locator(".outbox li").first.locator(".state")).to_have_text(
            "Sent", timeout=30_000
        )
        expect(page.locator(".outbox li").first.get_by_role("button")).to_have_count(0)
        wait_for(lambda: reply_calls(sandbox) == [("PUT", "Thanks for visiting!")], timeout=10)
    finally:
        worker.stop()
    assert api.get(f"/api/v1/items/{withdrawn}").json()["replies"][0]["status"] == "cancelled"
