"""Facebook page webhooks through HTTP: Meta's check, signatures, and events in the inbox fast."""

from __future__ import annotations

import json
import time

import pytest

from connectors.sandbox.facebook_state import APP_SECRET
from connectors.sandbox.facebook_webhooks import signed
from tests.support import wait_for
from tests.workers.facebook_support import (
    VERIFY_TOKEN,
    connect_through_api,
    fb_admin,
)
from workers.broker import broker

WEBHOOK = "/api/v1/webhooks/facebook"


def _worked_off() -> None:
    """Every message sent so far is processed and acknowledged by the worker."""
    broker.join("default", timeout=20_000)


def _inbox(api, **params):
    return api.get("/api/v1/items", params={"limit": 100, "source": "facebook", **params}).json()


def _connected(api, sandbox) -> dict:
    """Connect and wait for the first sync; the first page of the sandbox."""
    pages = fb_admin(sandbox, "GET", "/summary")["pages"]
    expected = sum(p["comments"] for p in pages)
    connect_through_api(api)
    wait_for(lambda: len(_inbox(api, kind="comment")["items"]) == expected, timeout=20)
    return pages[0]


def _comment_event(page: dict, comment_id: str, message: str) -> dict:
    return {
        "object": "page",
        "entry": [
            {
                "id": page["id"],
                "time": int(time.time()),
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "comment_id": comment_id,
                            "post_id": page["posts"][0],
                            "parent_id": page["posts"][0],
                            "from": {"id": "4242", "name": "Zoë"},
                            "message": message,
                            "created_time": int(time.time()),
                        },
                    }
                ],
            }
        ],
    }


def test_meta_verifies_the_callback_with_the_verify_token(facebook_api):
    api = facebook_api
    ok = api.get(
        WEBHOOK,
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158"},
    )
    assert ok.status_code == 200 and ok.text == "1158"
    wrong = api.get(
        WEBHOOK,
        params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158"},
    )
    assert wrong.status_code == 403
    assert wrong.json()["error"]["field"] == "hub.verify_token"


@pytest.mark.alone  # two seconds of wall clock, which a parallel run's shared cores would miss
def test_a_comment_is_in_the_inbox_within_two_seconds_of_being_written(facebook_api, sandbox):
    api = facebook_api
    page = _connected(api, sandbox)

    # When someone comments on the page's post (the sandbox delivers it, signed, like Meta)
    started = time.monotonic()
    sent = fb_admin(
        sandbox, "POST", "/comments", json={"parent_id": page["posts"][0], "message": "Wow 🎉"}
    )
    assert sent["delivered"] == 200

    # Then it is in the inbox within two seconds, without a sync
    found = wait_for(lambda: _inbox(api, q="Wow")["items"], timeout=2, interval=0.02)
    assert time.monotonic() - started < 2
    assert found[0]["external_id"] == sent["id"] and found[0]["kind"] == "comment"


def test_ratings_and_mentions_from_webhooks_land_with_their_kinds(facebook_api, sandbox):
    api = facebook_api
    page = _connected(api, sandbox)

    fb_admin(sandbox, "POST", "/ratings", json={"page_id": page["id"], "review_text": "Top"})
    fb_admin(sandbox, "POST", "/mentions", json={"page_id": page["id"], "message": "Tagged!"})

    rating = wait_for(lambda: _inbox(api, q="Top", kind="recommendation")["items"], timeout=5)
    mention = wait_for(lambda: _inbox(api, q="Tagged", kind="mention")["items"], timeout=5)
    assert rating[0]["rating"] == 5 and mention[0]["text"] == "Tagged!"


def test_bad_or_missing_signatures_are_refused_and_nothing_is_stored(facebook_api, sandbox):
    api = facebook_api
    page = _connected(api, sandbox)
    body, headers = signed(_comment_event(page, "9_1", "Forged"), "not-the-app-secret")
    genuine_body, genuine = signed(_comment_event(page, "9_2", "Genuine"), APP_SECRET)

    forged = api.post(WEBHOOK, content=body, headers=headers)
    unsigned = api.post(WEBHOOK, content=genuine_body, headers={"Content-Type": "application/json"})
    tampered = api.post(
        WEBHOOK, content=genuine_body.replace(b"Genuine", b"Altered"), headers=genuine
    )

    for response in (forged, unsigned, tampered):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_signature"
    _worked_off()  # a refused delivery, had it been sent on, would be written by now
    assert _inbox(api, q="Forged")["items"] == [] and _inbox(api, q="Altered")["items"] == []


def test_a_replayed_delivery_is_harmless(facebook_api, sandbox):
    api = facebook_api
    page = _connected(api, sandbox)
    body, headers = signed(_comment_event(page, "9_3", "Once only"), APP_SECRET)
    before = len(_inbox(api, kind="comment")["items"])

    for _ in range(3):  # Meta retries; an attacker may replay
        assert api.post(WEBHOOK, content=body, headers=headers).status_code == 200

    wait_for(lambda: _inbox(api, q="Once")["items"], timeout=5)
    _worked_off()  # the replays too
    assert len(_inbox(api, q="Once")["items"]) == 1
    assert len(_inbox(api, kind="comment")["items"]) == before + 1


def test_a_batched_delivery_writes_every_entry(facebook_api, sandbox):
    api = facebook_api
    page = _connected(api, sandbox)
    first = _comment_event(page, "9_4", "Batch one")
    second = _comment_event(page, "9_5", "Batch two")
    payload = {"object": "page", "entry": first["entry"] + second["entry"]}
    body, headers = signed(payload, APP_SECRET)

    assert api.post(WEBHOOK, content=body, headers=headers).status_code == 200

    wait_for(lambda: len(_inbox(api, q="Batch")["items"]) == 2, timeout=5)
    assert json.loads(body)["entry"][1]["changes"][0]["value"]["message"] == "Batch two"
