"""The whole product through HTTP only: sign up, connect Google, sync, read, reply, edit, delete.

Real parts throughout: the API under uvicorn, a dramatiq worker on Redis, PostgreSQL, and the
sandbox speaking Google's APIs on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures import consent
from tests.support import ApiServer, free_port, sign_up, wait_for
from workers.broker import broker
from workers.runner import start_worker

# The whole product in threads (a served API, a worker): they commit on their own.
pytestmark = pytest.mark.commits


@pytest.fixture
def api(db, sandbox, configure) -> Iterator[httpx.Client]:
    port = free_port()
    configure(public_url=f"http://127.0.0.1:{port}")
    broker.flush_all()
    worker = start_worker(threads=2)
    try:
        with ApiServer(port) as server, httpx.Client(base_url=server.url, timeout=20) as client:
            yield client
    finally:
        worker.stop()


def admin(sandbox, method: str, path: str, **kwargs) -> httpx.Response:
    response = httpx.request(method, f"{sandbox.url}/_admin{path}", timeout=10, **kwargs)
    assert response.status_code < 400, response.text
    return response


def test_connect_sync_read_reply_edit_delete(api, sandbox, configure):
    # Sign up an owner with an organisation
    signup = sign_up(
        api,
        {
            "email": "owner@bakery.example",
            "password": "correct horse battery",
            "name": "Olive Owner",
            "organisation_name": "Olive's Bakery",
        },
    )
    api.headers["Authorization"] = f"Bearer {signup['access_token']}"

    # Connect Google: consent on the sandbox's page, which redirects to our callback
    start = api.post("/api/v1/connections/google/authorize", json={})
    assert start.status_code == 200, start.text
    query = consent(start.json()["authorization_url"])
    callback = api.get("/api/v1/connections/google/callback", params=query)
    assert callback.status_code == 200, callback.text
    connection_id = callback.json()["connection"]["id"]

    # A worker exchanges the code, lists the locations and syncs every review
    expected = sum(
        loc["reviewCount"] for loc in admin(sandbox, "GET", "/locations").json()["locations"]
    )

    def inbox(**params):
        return api.get("/api/v1/items", params={"limit": 100, **params}).json()

    def synced():
        """all the sandbox's reviews are in the inbox"""
        return len(inbox()["items"]) == expected

    wait_for(synced, timeout=30)
    connection = api.get(f"/api/v1/connections/{connection_id}").json()
    assert connection["status"] == "active" and connection["needs_reauth"] is False
    assert len(api.get("/api/v1/locations").json()["locations"]) == 2

    # Reply to the newest unreplied review; the reply worker posts it to Google
    item = inbox(replied="false")["items"][0]
    reply = api.post(f"/api/v1/items/{item['id']}/reply", json={"text": "Thank you, come again!"})
    assert reply.status_code == 202, reply.text
    reply_id = reply.json()["reply"]["id"]

    def sent():
        """the reply is sent"""
        return api.get(f"/api/v1/replies/{reply_id}").json()["reply"]["status"] == "sent"

    wait_for(sent, timeout=20)
    at_google = [r for r in admin(sandbox, "GET", "/replies").json() if r["status"] < 400]
    assert [(r["method"], r["comment"]) for r in at_google] == [("PUT", "Thank you, come again!")]
    assert at_google[0]["review"].endswith(item["external_id"])
    assert api.get(f"/api/v1/items/{item['id']}").json()["replied"] is True

    # The customer edits their review on Google; the next sync shows it
    other = inbox()["items"][1]
    admin(sandbox, "PATCH", f"/reviews/{other['external_id']}", json={"comment": "Even better now"})
    assert api.post(f"/api/v1/connections/{connection_id}/sync").status_code == 202

    def edited():
        """the edit is in the inbox"""
        return api.get(f"/api/v1/items/{other['id']}").json()["text"] == "Even better now"

    wait_for(edited, timeout=20)

    # The customer deletes a review; the next full pass marks it deleted
    gone = inbox()["items"][2]
    admin(sandbox, "DELETE", f"/reviews/{gone['external_id']}")
    with configure(full_sync_interval_seconds=0):
        assert api.post(f"/api/v1/connections/{connection_id}/sync").status_code == 202

        def deleted():
            """the deleted review is marked deleted"""
            return api.get(f"/api/v1/items/{gone['id']}").json()["deleted"] is True

        wait_for(deleted, timeout=20)
    assert len(inbox()["items"]) == expected - 1
    assert len(inbox(include_deleted="true")["items"]) == expected
