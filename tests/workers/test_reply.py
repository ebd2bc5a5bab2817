"""The reply outbox: recorded before it is attempted, retried with backoff, sent once."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from models import Connection, ConnectionStatus, Item, Reply, ReplyStatus
from tests.fixtures import connect_google
from tests.service_calls import attempt_expecting_a_retry, deliver, sync
from tests.workers.test_sync import admin

REPLY_PATH = r"^/mybusiness/v4/.*/reply$"


def pending_reply(db, body="Thank you for the kind words!") -> Reply:
    connection = connect_google(db)
    run = sync(connection.id, "google_reviews")
    assert run is not None and run.status == "succeeded", run and run.errors
    item = db.scalars(select(Item).where(Item.reply_text.is_(None)).order_by(Item.id)).first()
    reply = Reply(
        organisation_id=item.organisation_id,
        item_id=item.id,
        body=body,
        idempotency_key=uuid.uuid4().hex,
    )
    db.add(reply)
    db.commit()
    return reply


def posted(sandbox) -> list[dict]:
    """Replies Google accepted."""
    return [
        r for r in admin(sandbox, "GET", "/replies") if r["method"] == "PUT" and r["status"] < 400
    ]


def reload(db, reply: Reply) -> Reply:
    db.expire_all()
    return db.get(Reply, reply.id)


def test_a_reply_is_posted_once_and_recorded(db, sandbox):
    reply = pending_reply(db)

    assert deliver(reply.id) == ReplyStatus.SENT

    reply = reload(db, reply)
    assert reply.attempts == 1 and reply.sent_at is not None
    item = db.get(Item, reply.item_id)
    assert item.reply_text == reply.body and item.reply_updated_at is not None
    assert [p["comment"] for p in posted(sandbox)] == [reply.body]
    # A duplicate message for a sent reply does nothing.
    assert deliver(reply.id) == ReplyStatus.SENT
    assert len(posted(sandbox)) == 1


def test_after_a_crash_mid_send_the_reply_is_read_back_not_posted_again(db, sandbox):
    # Given a reply that reached Google, but whose worker died before recording it
    reply = pending_reply(db)
    deliver(reply.id)
    db.execute(
        Reply.__table__.update()
        .where(Reply.id == reply.id)
        .values(status=ReplyStatus.SENDING, sent_at=None)
    )
    db.commit()

    # When it is attempted again
    assert deliver(reply.id) == ReplyStatus.SENT

    # Then Google got it once
    assert len(posted(sandbox)) == 1
    assert reload(db, reply).attempts == 2


def test_a_provider_outage_keeps_the_reply_pending_for_a_retry_with_backoff(db, sandbox):
    reply = pending_reply(db)
    admin(sandbox, "POST", "/faults", json={"path": REPLY_PATH, "status": 503, "times": 2})
    admin(sandbox, "DELETE", "/requests")

    # A 5xx to a write says nothing of its outcome: not repeated in place, back to the broker.
    for _ in range(2):
        attempt_expecting_a_retry(deliver, "reply.send", reply.id)
        reply = reload(db, reply)
        assert reply.status == ReplyStatus.PENDING
        assert "503" in reply.last_error
    assert posted(sandbox) == []
    assert admin(sandbox, "GET", "/requests", params={"path": REPLY_PATH})["total"] == 2
    # The outage ends; the broker's retry reads the review back, then delivers it.
    assert deliver(reply.id) == ReplyStatus.SENT
    assert len(posted(sandbox)) == 1


def test_a_reply_longer_than_google_allows_fails_with_googles_reason(db, sandbox):
    reply = pending_reply(db, body="é" * 2100)  # 4,200 bytes

    assert deliver(reply.id) == ReplyStatus.FAILED
    assert "INVALID_ARGUMENT" in reload(db, reply).last_error


def test_a_reply_waits_while_its_connection_needs_reauth(db, sandbox):
    reply = pending_reply(db)
    admin(sandbox, "POST", "/google/revoke", json={})
    admin(sandbox, "POST", "/google/expire-access-tokens")

    assert deliver(reply.id) == ReplyStatus.PENDING

    db.expire_all()
    item = db.get(Item, reply.item_id)
    assert db.get(Connection, item.connection_id).status == ConnectionStatus.NEEDS_REAUTH
    assert deliver(reply.id) == ReplyStatus.PENDING  # no provider call while it needs reauth
    assert posted(sandbox) == []


def test_a_reply_to_a_review_deleted_on_google_fails_clearly(db, sandbox):
    reply = pending_reply(db)
    item = db.get(Item, reply.item_id)
    admin(sandbox, "DELETE", f"/reviews/{item.external_id}")

    assert deliver(reply.id) == ReplyStatus.FAILED
    assert "404" in reload(db, reply).last_error
