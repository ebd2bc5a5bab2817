"""Replying: the outbox row, idempotency, limits and refusals."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from models import AuditEvent, Item, Reply, Role
from models.db import get_engine, get_sessionmaker, session_scope
from services.replies import replies
from tests.api.conftest import Person, error_of
from tests.support import wait_for


@pytest.fixture
def review(owner: Person, make_item: Callable[..., Item]) -> Item:
    return make_item(owner.organisation)


def _reply(client: TestClient, person: Person, item: Item, text: str, key: str | None = None):
    headers = person.headers | ({"Idempotency-Key": key} if key else {})
    return client.post(f"/api/v1/items/{item.id}/reply", json={"text": text}, headers=headers)


def test_a_reply_is_queued_in_the_outbox(
    client: TestClient, db: Session, owner: Person, review: Item, sent: list
):
    response = _reply(client, owner, review, "  Thank you, Ada!  ")

    assert response.status_code == 202
    reply = response.json()["reply"]
    assert (reply["status"], reply["attempts"], reply["body"]) == ("pending", 0, "Thank you, Ada!")
    assert reply["item_id"] == review.id and reply["sent_at"] is None
    row = db.get(Reply, reply["id"])
    assert (row.status, row.author_user_id) == ("pending", owner.user.id)
    assert sent == [("reply.send", (reply["id"],))]
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "reply.created"))
    assert "Thank you" not in str(event.details)

    fetched = client.get(f"/api/v1/replies/{reply['id']}", headers=owner.headers)
    assert fetched.json()["reply"] == reply


def test_the_same_idempotency_key_returns_the_same_reply(
    client: TestClient, db: Session, owner: Person, review: Item, sent: list
):
    first = _reply(client, owner, review, "Thanks", key="retry-1")
    second = _reply(client, owner, review, "Thanks", key="retry-1")

    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json() == second.json()
    assert db.scalar(select(func.count(Reply.id))) == 1
    assert len(sent) == 1

    different = _reply(client, owner, review, "Something else", key="retry-1")
    assert different.status_code == 409
    assert error_of(different)["code"] == "idempotency_key_reused"


def test_without_a_key_each_request_is_a_new_reply(
    client: TestClient, db: Session, owner: Person, review: Item
):
    _reply(client, owner, review, "One")
    _reply(client, owner, review, "Two")

    assert db.scalar(select(func.count(Reply.id))) == 2


def test_google_limits_replies_to_4096_bytes(
    client: TestClient, db: Session, owner: Person, review: Item
):
    fits = _reply(client, owner, review, "é" * 2048)  # 4096 bytes
    too_long = _reply(client, owner, review, "é" * 2048 + "!")

    assert fits.status_code == 202
    assert too_long.status_code == 422
    error = error_of(too_long)
    assert (error["code"], error["field"]) == ("too_long", "text")
    assert "4096 bytes" in error["message"]


def test_text_must_be_real_text(client: TestClient, owner: Person, review: Item):
    # JSON allows an escaped lone surrogate, which no UTF-8 encoder (or PostgreSQL) accepts.
    for raw in ('""', '"   \\n"', '"nul\\u0000byte"', '"\\ud800 lone surrogate"'):
        response = client.post(
            f"/api/v1/items/{review.id}/reply",
            content=f'{{"text": {raw}}}'.encode(),
            headers=owner.headers | {"Content-Type": "application/json"},
        )

        assert response.status_code == 422, raw
        assert error_of(response)["field"] == "text"

    extra = client.post(
        f"/api/v1/items/{review.id}/reply",
        json={"text": "hi", "status": "sent"},
        headers=owner.headers,
    )
    assert error_of(extra)["field"] == "status"

    long_key = _reply(client, owner, review, "hi", key="k" * 101)
    assert error_of(long_key)["field"] == "Idempotency-Key"


def test_deleted_and_unrepliable_items_are_refused(
    client: TestClient, db: Session, owner: Person, make_item: Callable[..., Item]
):
    deleted = make_item(owner.organisation, deleted=True)
    # A kind no provider lets us answer (Google has no feedback items of its own).
    unrepliable = make_item(owner.organisation, kind="feedback")

    assert error_of(_reply(client, owner, deleted, "Hi"))["code"] == "item_deleted"
    refused = _reply(client, owner, unrepliable, "Hi")
    assert refused.status_code == 409
    assert error_of(refused)["code"] == "not_repliable"
    assert db.scalar(select(func.count(Reply.id))) == 0


def test_viewers_cannot_reply_and_responders_can(
    client: TestClient, owner: Person, review: Item, make_person: Callable[..., Person]
):
    viewer = make_person(Role.VIEWER, organisation=owner.organisation)
    responder = make_person(Role.RESPONDER, organisation=owner.organisation)

    refused = _reply(client, viewer, review, "Hi")

    assert refused.status_code == 403
    assert error_of(refused)["code"] == "forbidden"
    assert _reply(client, responder, review, "Hi").status_code == 202
    assert client.get(f"/api/v1/items/{review.id}", headers=viewer.headers).status_code == 200


@pytest.mark.commits  # two sessions race on separate connections
def test_two_racing_requests_with_one_key_make_one_reply(db: Session, owner: Person, review: Item):
    # Given a first request that has inserted its reply but not yet committed
    first = get_sessionmaker()()
    mine, _ = replies.create_reply(
        first,
        scope=owner.scope(),
        item_id=review.id,
        text="Thanks",
        idempotency_key="race",
    )
    first.flush()

    # When a second request with the same key arrives (it waits on the unique index)
    with ThreadPoolExecutor(1) as pool:
        second = pool.submit(_create_in_own_session, owner, review, key="race")
        wait_for(lambda: _sessions_waiting_on_a_lock() == 1)
        first.commit()
        first.close()
        theirs_id, created = second.result(timeout=10)

    # Then it answers with the first request's reply instead of a second row
    assert (theirs_id, created) == (mine.id, False)
    assert db.scalar(select(func.count(Reply.id))) == 1


def _sessions_waiting_on_a_lock() -> int:
    # A connection of its own: the activity view is a snapshot per transaction.
    with get_engine().connect() as conn:
        return conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )


def _create_in_own_session(person: Person, item: Item, *, key: str) -> tuple[int, bool]:
    with session_scope() as session:
        reply, created = replies.create_reply(
            session,
            scope=person.scope(),
            item_id=item.id,
            text="Thanks",
            idempotency_key=key,
        )
        return reply.id, created


def test_an_item_names_its_providers_reply_limit(
    client: TestClient, owner: Person, review: Item, make_item: Callable[..., Item]
):
    # The dashboard counts a reply against this as one types.
    detail = client.get(f"/api/v1/items/{review.id}", headers=owner.headers).json()
    assert detail["reply_limit"] == {"size": 4096, "unit": "bytes"}

    feedback_on_google = make_item(owner.organisation, kind="feedback")
    other = client.get(f"/api/v1/items/{feedback_on_google.id}", headers=owner.headers).json()
    assert other["reply_limit"] is None
