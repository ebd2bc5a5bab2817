"""Google Business Profile notifications by Pub/Sub push: set up per account, authenticated by
Google's OIDC token, and a new review in the inbox at once; polling slows down meanwhile."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from connectors.sandbox.google_pubsub import PubSub
from models import Connection, SyncRun
from tests.fixtures import consent
from tests.support import wait_for

TOPIC = "projects/sandbox-project/topics/plaudit"
PUSH = "/api/v1/webhooks/google"


@pytest.fixture
def pushed(facebook_api, sandbox, configure):
    """The API, a worker, and the sandbox's Pub/Sub subscription pushing to the API."""
    audience = f"{facebook_api.base_url}{PUSH}"
    configure(google_pubsub_audience=audience, google_pubsub_topic=TOPIC)
    pubsub(sandbox, "PATCH", "/subscription", json={"push_url": audience, "audience": audience})
    return facebook_api


def pubsub(sandbox, method: str, path: str, **kwargs):
    response = httpx.request(method, f"{sandbox.url}/_admin/pubsub{path}", timeout=10, **kwargs)
    assert response.status_code < 400, response.text
    return response.json()


def connect(api, sandbox) -> tuple[int, list[dict]]:
    start = api.post("/api/v1/connections/google/authorize", json={})
    query = consent(start.json()["authorization_url"])
    connection_id = api.get("/api/v1/connections/google/callback", params=query).json()[
        "connection"
    ]["id"]
    locations = httpx.get(f"{sandbox.url}/_admin/locations").json()["locations"]
    total = sum(loc["reviewCount"] for loc in locations)
    wait_for(lambda: len(api.get("/api/v1/items", params={"limit": 100}).json()["items"]) == total)
    return connection_id, locations


def test_a_new_review_is_pushed_into_the_inbox_and_polling_slows_down(db, pushed, sandbox):
    api = pushed
    connection_id, locations = connect(api, sandbox)

    # The account's notifications were pointed at the topic, for new and updated reviews
    settings = pubsub(sandbox, "GET", "/subscription")["settings"]
    assert {s["pubsubTopic"] for s in settings.values()} == {TOPIC}
    assert all(
        s["notificationTypes"] == ["NEW_REVIEW", "UPDATED_REVIEW"] for s in settings.values()
    )
    connection = db.get(Connection, connection_id)
    assert connection.push_enabled
    assert connection.next_sync_at > datetime.now(UTC) + timedelta(minutes=30)

    # When a review is written on Google and Pub/Sub pushes the notification
    review = httpx.post(
        f"{sandbox.url}/_admin/reviews",
        json={"location": locations[0]["name"], "comment": "Pushed to us!"},
    ).json()
    sent = pubsub(
        sandbox,
        "POST",
        "/push",
        json={"type": "NEW_REVIEW", "location": locations[0]["name"], "review": review["name"]},
    )
    assert sent["delivered"] == 200

    # Then it is in the inbox at once, from a sync of that one location
    found = wait_for(
        lambda: api.get("/api/v1/items", params={"q": "Pushed"}).json()["items"], timeout=5
    )
    assert found[0]["external_id"] == review["reviewId"]


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "https://elsewhere.example/push"},
        {"iss": "https://evil.example"},
        {"exp": 1_000_000_000, "iat": 999_990_000},
    ],
    ids=["wrong audience", "wrong issuer", "expired"],
)
def test_a_push_with_a_bad_token_is_refused_and_nothing_is_synced(db, pushed, sandbox, claims):
    location = httpx.get(f"{sandbox.url}/_admin/locations").json()["locations"][0]["name"]

    sent = pubsub(sandbox, "POST", "/push", json={"location": location, "claims": claims})

    assert sent["delivered"] == 401
    assert db.scalars(select(SyncRun)).all() == []


def test_a_token_signed_by_another_key_or_none_at_all_is_refused(db, pushed, sandbox):
    api = pushed
    audience = f"{api.base_url}{PUSH}"
    location = httpx.get(f"{sandbox.url}/_admin/locations").json()["locations"][0]["name"]
    stranger = PubSub(threading.RLock())  # the same claims, signed with a key not Google's
    forged, body = stranger.token(audience), stranger.envelope("NEW_REVIEW", location, None)

    for headers in ({"Authorization": f"Bearer {forged}"}, {}):
        answer = httpx.post(f"{api.base_url}{PUSH}", json=body, headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"]["field"] == "Authorization"
