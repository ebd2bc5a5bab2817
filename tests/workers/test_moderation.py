"""Replies Google moderates (PROVIDERS.md §G.1): a 200 is not "published"; a pending reply is
read back later, a rejected one fails visibly with Google's reason and can be sent again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from models import EmailMessage, Item, Reply, ReplyAction, ReplyStatus, Webhook, WebhookDelivery
from models.db import session_scope
from services.replies import moderation
from tests.service_calls import deliver, sync
from tests.workers.test_reply import pending_reply, posted, reload
from tests.workers.test_sync import admin


def check_due(at: datetime) -> int:
    """What a scheduler tick and the check jobs it enqueues do, here and now."""
    with session_scope() as session:
        organisations = moderation.organisations_due(session, now=at)
    ids = []
    for organisation_id in organisations:
        with session_scope() as session:
            moderation.enqueue_due(session, organisation_id=organisation_id, now=at)
            ids += [
                r.id
                for r in session.scalars(
                    select(Reply).where(Reply.organisation_id == organisation_id)
                )
            ]
    checked = 0
    for reply_id in ids:
        with session_scope() as session:
            checked += moderation.check(session, reply_id=reply_id, now=at) is not None
    return checked


def subscribe(db, organisation_id: int) -> None:
    db.add(
        Webhook(
            organisation_id=organisation_id,
            url="https://hooks.example.com/plaudit",
            events=["reply.failed", "reply.sent"],
            secret="s" * 32,
        )
    )
    db.commit()


def review_id(db, reply: Reply) -> str:
    return db.get(Item, reply.item_id).external_id


def test_a_reply_published_at_once_is_sent_and_published(db, sandbox):
    reply = pending_reply(db)
    assert deliver(reply.id) == ReplyStatus.SENT
    reply = reload(db, reply)
    assert reply.moderation_state == "published" and reply.moderation_check_at is None
    assert db.get(Item, reply.item_id).reply_state == "published"


def test_a_pending_reply_is_read_back_and_a_rejection_is_shown_told_and_resendable(db, sandbox):
    admin(sandbox, "PATCH", "/google/settings", json={"reply_moderation": "PENDING"})
    reply = pending_reply(db)
    subscribe(db, reply.organisation_id)

    # Sent, but Google is still deciding: sent while it has not rejected it, read again later.
    assert deliver(reply.id) == ReplyStatus.SENT
    reply = reload(db, reply)
    assert reply.moderation_state == "pending" and reply.moderation_check_at is not None
    now = datetime.now(UTC)
    assert check_due(now) == 0  # not due yet
    assert check_due(now + timedelta(minutes=3)) == 1
    reply = reload(db, reply)
    assert reply.status == ReplyStatus.SENT and reply.moderation_state == "pending"
    assert reply.moderation_check_at > now + timedelta(minutes=4)  # backing off

    # Google rejects it later.
    admin(
        sandbox,
        "POST",
        f"/reviews/{review_id(db, reply)}/reply/moderation",
        json={"state": "REJECTED", "policyViolation": "CONTAINS_CONTACT_INFO"},
    )
    assert check_due(now + timedelta(hours=1)) == 1
    reply = reload(db, reply)
    assert reply.status == ReplyStatus.FAILED
    assert reply.moderation_state == "rejected"
    assert reply.policy_violation == "CONTAINS_CONTACT_INFO"
    assert "CONTAINS_CONTACT_INFO" in reply.last_error
    item = db.get(Item, reply.item_id)
    assert (item.reply_state, item.reply_policy_violation) == ("rejected", "CONTAINS_CONTACT_INFO")
    events = [
        (d.event, d.payload)
        for d in db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
    ]
    assert [e for e, _ in events] == ["reply.sent", "reply.failed"]
    assert events[-1][1]["policy_violation"] == "CONTAINS_CONTACT_INFO"
    mails = db.scalars(select(EmailMessage).where(EmailMessage.template == "notice")).all()
    assert [m.to_address for m in mails] == ["owner@example.com"]
    assert "CONTAINS_CONTACT_INFO" in mails[0].context
    assert check_due(now + timedelta(days=1)) == 0  # nothing left to follow

    # Edited and sent again, it is published.
    admin(sandbox, "PATCH", "/google/settings", json={"reply_moderation": "ACTIVE"})
    again = Reply(
        organisation_id=reply.organisation_id,
        item_id=reply.item_id,
        body="Thank you for coming!",
        action=ReplyAction.UPDATE,
        idempotency_key=uuid.uuid4().hex,
    )
    db.add(again)
    db.commit()
    assert deliver(again.id) == ReplyStatus.SENT
    db.expire_all()
    assert db.get(Item, reply.item_id).reply_state == "published"
    assert [p["comment"] for p in posted(sandbox)][-1] == "Thank you for coming!"


def test_a_reply_rejected_at_once_fails_with_the_reason(db, sandbox):
    admin(
        sandbox,
        "PATCH",
        "/google/settings",
        json={"reply_moderation": "REJECTED", "reply_violation": "SPAM"},
    )
    reply = pending_reply(db)
    assert deliver(reply.id) == ReplyStatus.FAILED
    reply = reload(db, reply)
    assert (reply.moderation_state, reply.policy_violation) == ("rejected", "SPAM")
    assert deliver(reply.id) == ReplyStatus.FAILED  # a duplicate message sends nothing
    assert len(posted(sandbox)) == 1


def test_a_pending_reply_approved_later_stops_being_checked(db, sandbox):
    admin(sandbox, "PATCH", "/google/settings", json={"reply_moderation": "PENDING"})
    reply = pending_reply(db)
    deliver(reply.id)
    admin(
        sandbox,
        "POST",
        f"/reviews/{review_id(db, reply)}/reply/moderation",
        json={"state": "ACTIVE"},
    )
    assert check_due(datetime.now(UTC) + timedelta(minutes=3)) == 1
    reply = reload(db, reply)
    assert reply.status == ReplyStatus.SENT and reply.moderation_state == "published"
    assert reply.moderation_check_at is None


def test_the_sync_stores_media_the_reply_url_and_the_replys_moderation(db, sandbox):
    connection_reply = pending_reply(db)  # connects and syncs once
    item = db.get(Item, connection_reply.item_id)
    media = [{"thumbnailUrl": "https://t/1", "videoUrl": "https://v/1", "label": "x"}, {}]
    admin(sandbox, "PATCH", f"/reviews/{item.external_id}", json={"reviewMediaItems": media})
    admin(
        sandbox,
        "PATCH",
        "/google/settings",
        json={"reply_moderation": "REJECTED", "reply_violation": "OFF_TOPIC"},
    )
    deliver(connection_reply.id)
    run = sync(item.connection_id, "google_reviews")
    assert run is not None and run.status == "succeeded", run and run.errors
    db.expire_all()
    item = db.get(Item, item.id)
    assert item.media == [{"thumbnail_url": "https://t/1", "video_url": "https://v/1"}]
    assert item.reply_url and item.external_id in item.reply_url
    assert (item.reply_state, item.reply_policy_violation) == ("rejected", "OFF_TOPIC")
    seeded = db.scalars(select(Item).where(Item.media.is_not(None))).all()
    assert len(seeded) > 1  # the sandbox's own seeded media came through too
