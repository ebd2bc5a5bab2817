"""A Facebook item's composer in Chromium: the page's answer made on Facebook is shown, and the
person picks "Edit the answer" (the comment changes, no second one) or "Add an answer"."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.support import sign_up, wait_for
from tests.web.test_dashboard import OWNER
from tests.web.test_team_pages import log_in
from tests.workers.facebook_support import connect_through_api, fb_admin, use_facebook_app


@pytest.fixture
def facebook_app(configure) -> None:
    # Before the dashboard fixture starts its processes, which read the settings.
    use_facebook_app(configure, facebook_graph_version="v21.0")


def page_answers(sandbox, story_id: str) -> list[str]:
    return [
        r["message"]
        for r in sorted(fb_admin(sandbox, "GET", "/replies")["replies"], key=lambda r: r["id"])
        if r["parent_id"] == story_id and not r["deleted"]
    ]


def test_the_composer_edits_the_pages_answer_or_adds_one(facebook_app, dashboard, sandbox, page):
    with dashboard.client() as client:
        owner = sign_up(client, OWNER)
    api = dashboard.client(owner["access_token"])
    connect_through_api(api)

    def answered() -> dict | None:
        """a recommendation the page answered on Facebook is synced"""
        params = {"kind": "recommendation", "replied": "true"}
        found = api.get("/api/v1/items", params=params).json()["items"]
        return found[0] if found else None

    item = wait_for(answered, timeout=30)
    (answer,) = page_answers(sandbox, item["external_id"])
    log_in(page, OWNER["email"], OWNER["password"])
    page.goto(f"/inbox/{item['id']}")

    # The composer shows the answer and asks which write is meant before it sends anything
    composer = page.locator(".composer")
    expect(composer.locator("blockquote")).to_have_text(answer)
    composer.get_by_label("Answer", exact=True).fill("Thanks again")
    expect(page.get_by_role("button", name="Send reply")).to_be_disabled()

    # Edit: the text starts from the answer; the comment at Facebook changes, none is added
    composer.get_by_label("Answer", exact=True).fill("")
    composer.get_by_role("radio", name="Edit the answer").check()
    box = composer.get_by_role("textbox", name="Edit the answer")
    expect(box).to_have_value(answer)
    box.fill("Edited in the dashboard")
    page.get_by_role("button", name="Update the answer").click()
    wait_for(lambda: page_answers(sandbox, item["external_id"]) == ["Edited in the dashboard"])

    # Add: a second comment of the page's
    page.reload()
    composer.get_by_role("radio", name="Add an answer").check()
    composer.get_by_role("textbox", name="Add an answer").fill("And one more thing")
    page.get_by_role("button", name="Send reply").click()
    wait_for(
        lambda: (
            page_answers(sandbox, item["external_id"])
            == ["Edited in the dashboard", "And one more thing"]
        )
    )
    assert httpx.get(f"{dashboard.url}/healthz").status_code == 200
