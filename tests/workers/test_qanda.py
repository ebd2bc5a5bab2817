"""Google Q&A: questions and answers into the inbox, answering, and the API's discontinuation."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select

from models import Connection, Item, Location, Reply
from tests.fixtures import connect_google, consent
from tests.service_calls import sync
from tests.support import wait_for
from workers.outbox import send_reply


@pytest.fixture
def qanda_on(configure):
    configure(qanda_enabled="true")


def qanda_admin(sandbox, method: str, path: str, **kwargs):
    response = httpx.request(method, f"{sandbox.url}/_admin/qanda{path}", timeout=10, **kwargs)
    assert response.status_code < 400, response.text
    return response.json()


def questions(db) -> list[Item]:
    db.expire_all()
    return list(db.scalars(select(Item).where(Item.kind == "question").order_by(Item.id)))


def test_questions_and_our_answers_are_synced(db, sandbox, qanda_on):
    connection = connect_google(db)
    sync(connection.id, "google_reviews")  # lists the locations

    run = sync(connection.id, "google_qanda")

    assert run.status == "succeeded" and run.written == 6  # 2 locations × 3 questions
    found = questions(db)
    assert all(q.external_id.startswith("locations/") and q.text for q in found)
    # The merchant's answer is our reply; other people's answers are not.
    assert sorted(q.reply_text or "" for q in found) == [
        "",
        "",
        "",
        "",
        "Yes, right behind the shop.",
        "Yes, right behind the shop.",
    ]
    # Nothing new: one request a location, nothing written
    assert sync(connection.id, "google_qanda").written == 0


@pytest.mark.parametrize("mode", ["SERVICE_DISABLED", "404", "410"])
def test_a_discontinued_api_retires_the_capability_and_reviews_keep_syncing(
    db, sandbox, qanda_on, mode
):
    connection = connect_google(db)
    sync(connection.id, "google_reviews")
    qanda_admin(sandbox, "PATCH", "/settings", json={"discontinued": mode})

    sync(connection.id, "google_qanda")

    db.expire_all()
    current = db.get(Connection, connection.id)
    state = current.capabilities["google_qanda"]
    assert state["state"] == "retired" and state["message"].startswith("Google")
    assert current.status == "active"
    assert all(location.active for location in db.scalars(select(Location)))
    assert sync(connection.id, "google_qanda") is None  # not asked again
    assert sync(connection.id, "google_reviews").status == "succeeded"


def test_the_setting_turns_q_and_a_off_altogether(db, sandbox, configure):
    configure(qanda_enabled="false")
    connection = connect_google(db)
    httpx.delete(f"{sandbox.url}/_admin/requests")

    assert sync(connection.id, "google_qanda") is None
    assert (
        httpx.get(f"{sandbox.url}/_admin/requests", params={"path": "^/qanda"}).json()["total"] == 0
    )
    # The worker records its decision on the connection: the scheduler and the API read that.
    db.expire_all()
    assert db.get(Connection, connection.id).capability_state("google_qanda") == "disabled"

    # Turned on again in the workers' settings, the next sync of the connection says so
    with configure(qanda_enabled="true"):
        sync(connection.id, "google_reviews")
    db.expire_all()
    assert db.get(Connection, connection.id).capability_state("google_qanda") == "available"


def test_sync_through_http_and_answer_through_the_outbox(db, facebook_api, sandbox, qanda_on):
    api = facebook_api
    start = api.post("/api/v1/connections/google/authorize", json={})
    query = consent(start.json()["authorization_url"])
    assert api.get("/api/v1/connections/google/callback", params=query).status_code == 200

    def unanswered():
        """the questions are in the inbox"""
        listed = api.get("/api/v1/items", params={"kind": "question", "limit": 100}).json()
        return len(listed["items"]) == 6 and [i for i in listed["items"] if not i["replied"]]

    question = wait_for(unanswered, timeout=30)[0]
    # The reply endpoint does not take questions yet (services/replies/replies.py REPLY_LIMITS):
    # the answer goes through the same outbox row and reply worker it would create.
    reply = Reply(
        organisation_id=db.get(Item, question["id"]).organisation_id,
        item_id=question["id"],
        body="Yes, every day.",
        idempotency_key=uuid.uuid4().hex,
    )
    db.add(reply)
    db.commit()
    send_reply.send(reply.id)

    wait_for(lambda: api.get(f"/api/v1/items/{question['id']}").json()["replied"], timeout=20)
    assert {"question": question["external_id"], "text": "Yes, every day."} in qanda_admin(
        sandbox, "GET", "/answers"
    )["answers"]
