"""A reply not yet sent: edited or cancelled through the API, never once the worker has it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models import AuditEvent, Item, Reply, Role, Scope
from models.db import get_sessionmaker
from tests.api.conftest import Person, error_of
from tests.service_calls import deliver


@pytest.fixture
def review(owner: Person, make_item: Callable[..., Item]) -> Item:
    return make_item(owner.organisation)


def _queue(client: TestClient, person: Person, item: Item, body: str = "Thank you!") -> dict:
    response = client.post(
        f"/api/v1/items/{item.id}/reply", json={"text": body}, headers=person.headers
    )
    assert response.status_code == 202, response.text
    return response.json()["reply"]


def _edit(client: TestClient, person: Person, reply_id: int, body: str, **extra: object):
    return client.patch(
        f"/api/v1/replies/{reply_id}", json={"text": body, **extra}, headers=person.headers
    )


def _cancel(client: TestClient, person: Person, reply_id: int):
    return client.post(f"/api/v1/replies/{reply_id}/cancel", headers=person.headers)


def test_a_queued_reply_is_edited_and_the_worker_reads_the_new_text(
    client: TestClient, db: Session, owner: Person, review: Item, sent: list
):
    queued = _queue(client, owner, review)
    assert (queued["editable"], queued["cancellable"]) == (True, True)

    edited = _edit(client, owner, queued["id"], "  Thank you, Ada!  ")

    assert edited.status_code == 200, edited.text
    reply = edited.json()["reply"]
    assert (reply["status"], reply["body"]) == ("pending", "Thank you, Ada!")
    # Its message was already on its way: an edit sends no second one.
    assert sent == [("reply.send", (queued["id"],))]
    db.expire_all()
    assert db.get(Reply, queued["id"]).body == "Thank you, Ada!"
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "reply.edited"))
    assert (event.actor_user_id, event.target_id) == (owner.user.id, str(queued["id"]))
    assert "Ada" not in str(event.details)


def test_a_cancelled_reply_is_never_sent(
    client: TestClient, db: Session, owner: Person, review: Item
):
    queued = _queue(client, owner, review)

    cancelled = _cancel(client, owner, queued["id"])
    again = _cancel(client, owner, queued["id"])

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["reply"]["status"] == "cancelled"
    assert (again.status_code, again.json()["reply"]["status"]) == (200, "cancelled")
    assert cancelled.json()["reply"]["cancellable"] is False
    # The message still on its way finds it cancelled: no attempt, nothing at the provider.
    assert deliver(queued["id"]) == "cancelled"
    db.expire_all()
    assert db.get(Reply, queued["id"]).attempts == 0
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "reply.cancelled")).all()
    assert len(events) == 1  # the repeated cancel changed nothing
    assert _edit(client, owner, queued["id"], "Too late").status_code == 409


@pytest.mark.commits  # the worker's lock is held on a connection of its own
def test_a_reply_the_worker_holds_or_has_sent_is_a_409(
    client: TestClient, db: Session, owner: Person, review: Item
):
    held = _queue(client, owner, review, "Held")
    done = _queue(client, owner, review, "Done")
    db.execute(text("UPDATE replies SET status = 'sent' WHERE id = :id"), {"id": done["id"]})
    db.commit()
    # The reply worker claims a row with FOR UPDATE SKIP LOCKED and holds it while it sends.
    worker = get_sessionmaker()()
    try:
        worker.execute(
            text("SELECT id FROM replies WHERE id = :id FOR UPDATE SKIP LOCKED"), {"id": held["id"]}
        ).one()

        for response in (
            _edit(client, owner, held["id"], "New"),
            _cancel(client, owner, held["id"]),
        ):
            assert response.status_code == 409
            assert error_of(response)["code"] == "reply_sending"
    finally:
        worker.rollback()
        worker.close()
    for response in (_edit(client, owner, done["id"], "New"), _cancel(client, owner, done["id"])):
        assert response.status_code == 409
        assert error_of(response)["code"] == "reply_sent"
    db.execute(text("UPDATE replies SET status = 'sending' WHERE id = :id"), {"id": held["id"]})
    db.commit()
    assert error_of(_cancel(client, owner, held["id"]))["code"] == "reply_sending"


def test_an_attempted_reply_can_be_cancelled_but_not_edited(
    client: TestClient, db: Session, owner: Person, review: Item
):
    # Given a reply whose first attempt's answer was lost: pending again, its start kept
    queued = _queue(client, owner, review)
    row = db.get(Reply, queued["id"])
    row.attempt_started_at, row.attempts = datetime.now(UTC), 1
    db.commit()

    listed = client.get(f"/api/v1/items/{review.id}", headers=owner.headers).json()["replies"]
    refused = _edit(client, owner, queued["id"], "Another text")

    assert (listed[0]["editable"], listed[0]["cancellable"]) == (False, True)
    assert refused.status_code == 409
    assert error_of(refused)["code"] == "reply_attempted"
    assert _cancel(client, owner, queued["id"]).json()["reply"]["status"] == "cancelled"


def test_an_edit_is_checked_like_a_reply(client: TestClient, owner: Person, review: Item):
    queued = _queue(client, owner, review)

    too_long = _edit(client, owner, queued["id"], "é" * 2049)
    blank = _edit(client, owner, queued["id"], "   ")

    assert too_long.status_code == 422
    assert (error_of(too_long)["code"], error_of(too_long)["field"]) == ("too_long", "text")
    assert error_of(blank)["field"] == "text"


def test_a_responders_edit_awaits_approval_again_and_a_rejected_one_is_resubmitted(
    client: TestClient,
    db: Session,
    owner: Person,
    make_person: Callable[..., Person],
    review: Item,
    sent: list,
):
    responder = make_person(Role.RESPONDER, organisation=owner.organisation)
    owner.organisation.reply_approval_required = True
    db.commit()
    approved = _queue(client, responder, review, "First")
    client.post(f"/api/v1/replies/{approved['id']}/approve", headers=owner.headers)
    rejected = _queue(client, responder, review, "Second")
    client.post(f"/api/v1/replies/{rejected['id']}/reject", headers=owner.headers)
    assert sent == [("reply.send", (approved["id"],))]

    # An approved text changed by a role that needs approval is not approved any more
    reedited = _edit(client, responder, approved["id"], "First, changed").json()["reply"]
    assert (reedited["status"], reedited["approved_by_user_id"]) == ("awaiting_approval", None)
    # A rejected reply edited by a manager is submitted again, and sent
    resubmitted = _edit(client, owner, rejected["id"], "Second, better").json()["reply"]
    assert resubmitted["status"] == "pending"
    assert sent == [("reply.send", (approved["id"],)), ("reply.send", (rejected["id"],))]


def test_viewers_cannot_edit_or_cancel_and_other_organisations_see_a_404(
    client: TestClient,
    owner: Person,
    make_person: Callable[..., Person],
    review: Item,
):
    viewer = make_person(Role.VIEWER, organisation=owner.organisation)
    stranger = make_person(Role.OWNER)
    queued = _queue(client, owner, review)

    assert _edit(client, viewer, queued["id"], "No").status_code == 403
    assert _cancel(client, viewer, queued["id"]).status_code == 403
    assert _edit(client, stranger, queued["id"], "No").status_code == 404
    assert _cancel(client, stranger, queued["id"]).status_code == 404
    after = client.get(f"/api/v1/replies/{queued['id']}", headers=owner.headers).json()["reply"]
    assert (after["status"], after["body"]) == ("pending", "Thank you!")


def test_a_key_edits_and_cancels_and_is_named_in_the_audit(
    client: TestClient,
    db: Session,
    owner: Person,
    review: Item,
    make_api_key: Callable[..., str],
):
    key = make_api_key(owner, Scope.REPLY)
    queued = _queue(client, owner, review)

    edited = client.patch(
        f"/api/v1/replies/{queued['id']}", json={"text": "By key"}, headers={"X-API-Key": key}
    )
    cancelled = client.post(f"/api/v1/replies/{queued['id']}/cancel", headers={"X-API-Key": key})

    assert (edited.status_code, cancelled.status_code) == (200, 200)
    for action in ("reply.edited", "reply.cancelled"):
        event = db.scalar(select(AuditEvent).where(AuditEvent.action == action))
        assert event.details.get("api_key_id") is not None
