"""The page's own answers on Facebook, at the wire: answers made on Facebook show as the item's
reply after a sync; "add" publishes one more comment, "edit" changes the one shown and never
adds one; Graph's "(#100) but created" and its empty story comments (PROVIDERS.md §G.5)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import update

from models import Checkpoint, Item, Membership, ReplyMode, ReplyStatus, Role
from models.db import session_scope
from services.replies import replies
from services.scope import Scope
from tests.service_calls import deliver, sync
from tests.workers.facebook_support import connect_facebook, fb_admin, use_facebook_app
from tests.workers.test_facebook_sync import items
from tests.workers.test_provider_writes import page_comments, requests_to
from tests.workers.test_sync import admin

CREATED_ANYWAY = {
    "code": 100,
    "type": "GraphMethodException",
    "message": "(#100) Unsupported request - method type: post",
    "method": "POST",
    "after_handling": True,
}


@pytest.fixture
def facebook(db, sandbox, configure):
    use_facebook_app(configure, facebook_graph_version="v21.0")
    connection = connect_facebook(db)
    for capability in ("facebook_ratings", "facebook_tagged"):
        assert sync(connection.id, capability).status == "succeeded"
    return connection


def answers_at_facebook(sandbox, object_id: str) -> list[dict]:
    return sorted(page_comments(sandbox, object_id), key=lambda c: c["id"])


def answered(db, kind: str) -> Item:
    return next(i for i in items(db, kind=kind) if i.reply_text is not None)


def unanswered(db, kind: str) -> Item:
    return next(i for i in items(db, kind=kind) if i.reply_text is None)


def reply(db, item: Item, text: str, mode: ReplyMode) -> int:
    """A reply as the API makes one: through the service, by the organisation's owner."""
    owner = db.query(Membership).filter_by(organisation_id=item.organisation_id).one()
    scope = Scope(organisation_id=item.organisation_id, role=Role.OWNER, user_id=owner.user_id)
    with session_scope() as session:
        row, _ = replies.create_reply(
            session,
            scope=scope,
            item_id=item.id,
            text=text,
            idempotency_key=uuid.uuid4().hex,
            mode=mode,
        )
        return row.id


def full_pass(db, connection_id: int, capability: str) -> None:
    db.execute(update(Checkpoint).values(last_full_pass_at=None))
    db.commit()
    assert sync(connection_id, capability).status == "succeeded"


@pytest.mark.parametrize("kind", ["recommendation", "mention"])
def test_answers_the_page_made_on_facebook_are_the_items_replies_after_a_sync(
    db, sandbox, facebook, kind
):
    synced = items(db, kind=kind)
    assert any(i.reply_text for i in synced) and any(i.reply_text is None for i in synced)
    for item in synced:
        at_facebook = answers_at_facebook(sandbox, item.external_id)
        if at_facebook:
            (answer,) = at_facebook
            assert (item.reply_text, item.reply_external_id) == (answer["message"], answer["id"])
        else:
            assert (item.reply_text, item.reply_external_id) == (None, None)


def test_add_publishes_a_second_comment_and_shows_it(db, sandbox, facebook):
    item = answered(db, "recommendation")
    (first,) = answers_at_facebook(sandbox, item.external_id)

    assert deliver(reply(db, item, "And thanks again!", ReplyMode.ADD)) == ReplyStatus.SENT

    now = answers_at_facebook(sandbox, item.external_id)
    assert [c["message"] for c in now] == [first["message"], "And thanks again!"]
    shown = items(db, id=item.id)[0]
    assert shown.reply_text == "And thanks again!" and shown.reply_external_id == now[1]["id"]


@pytest.mark.parametrize("kind", ["recommendation", "mention"])
def test_edit_changes_the_answer_shown_and_never_adds_one(db, sandbox, facebook, kind):
    item = answered(db, kind)
    (before,) = answers_at_facebook(sandbox, item.external_id)
    admin(sandbox, "DELETE", "/requests")

    assert deliver(reply(db, item, "Edited in plaudit", ReplyMode.EDIT)) == ReplyStatus.SENT

    assert answers_at_facebook(sandbox, item.external_id) == [
        {**before, "message": "Edited in plaudit"}
    ]
    assert requests_to(sandbox, "POST", rf"/{item.external_id}/comments$") == []
    assert len(requests_to(sandbox, "POST", rf"/{before['id']}$")) == 1
    # And the next full pass reads the edited answer back
    full_pass(db, facebook.id, f"facebook_{'ratings' if kind == 'recommendation' else 'tagged'}")
    assert items(db, id=item.id)[0].reply_text == "Edited in plaudit"


def test_add_on_an_unanswered_recommendation_answers_under_its_story(db, sandbox, facebook):
    item = unanswered(db, "recommendation")
    assert deliver(reply(db, item, "Thank you!", ReplyMode.ADD)) == ReplyStatus.SENT
    assert [c["message"] for c in answers_at_facebook(sandbox, item.external_id)] == ["Thank you!"]


@pytest.mark.parametrize("story_comments_empty", [False, True], ids=["read-works", "read-empty"])
def test_a_post_graph_refuses_but_carries_out_makes_exactly_one_comment(
    db, sandbox, facebook, story_comments_empty
):
    # Given Graph creating the comment, then answering (#100) Unsupported request
    item = unanswered(db, "recommendation")
    create = rf"{item.external_id}/comments$"  # on the path after the version
    fb_admin(sandbox, "POST", "/faults", json={"path": create, **CREATED_ANYWAY})
    fb_admin(sandbox, "PATCH", "/settings", json={"story_comments_empty": story_comments_empty})
    admin(sandbox, "DELETE", "/requests")

    # When the reply is delivered (and the outbox is asked again, as the reconciler would)
    reply_id = reply(db, item, "Thanks, Rita!", ReplyMode.ADD)
    assert deliver(reply_id) == ReplyStatus.SENT
    assert deliver(reply_id) == ReplyStatus.SENT

    # Then Facebook has exactly one comment of ours: the POST was never repeated
    fb_admin(sandbox, "PATCH", "/settings", json={"story_comments_empty": False})
    (ours,) = answers_at_facebook(sandbox, item.external_id)
    assert ours["message"] == "Thanks, Rita!"
    assert [r["status"] for r in requests_to(sandbox, "POST", create)] == [400]
    shown = items(db, id=item.id)[0]
    assert shown.reply_text == "Thanks, Rita!"
    # Its id where the read-back showed it; without it, an edit falls back to the latest.
    assert shown.reply_external_id == (None if story_comments_empty else ours["id"])


def test_an_empty_read_of_a_story_keeps_the_answer_it_had(db, sandbox, facebook):
    item = answered(db, "recommendation")
    fb_admin(sandbox, "PATCH", "/settings", json={"story_comments_empty": True})

    full_pass(db, facebook.id, "facebook_ratings")

    assert items(db, id=item.id)[0].reply_text == item.reply_text
    fb_admin(sandbox, "PATCH", "/settings", json={"story_comments_empty": False})


def test_an_answer_deleted_on_facebook_is_gone_after_a_full_pass(db, sandbox, facebook):
    # A story that lists other people's comments can tell: the page's answer is gone.
    item = answered(db, "recommendation")
    fb_admin(sandbox, "POST", "/comments", json={"parent_id": item.external_id, "message": "+1"})
    (answer,) = answers_at_facebook(sandbox, item.external_id)
    _delete_at_facebook(sandbox, answer["id"], page_id=item.external_id.split("_")[0])

    full_pass(db, facebook.id, "facebook_ratings")

    assert items(db, id=item.id)[0].reply_text is None


def _delete_at_facebook(sandbox, comment_id: str, *, page_id: str) -> None:
    """What the page's staff do on Facebook: delete the page's comment, with its page token."""
    graph = f"{sandbox.url}/facebook-graph/v21.0"
    user = fb_admin(sandbox, "POST", "/tokens")["access_token"]
    pages = httpx.get(f"{graph}/me/accounts", params={"access_token": user}).json()["data"]
    token = next(p["access_token"] for p in pages if p["id"] == page_id)
    answer = httpx.delete(f"{graph}/{comment_id}", params={"access_token": token})
    assert answer.json() == {"success": True}
