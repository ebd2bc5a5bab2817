"""Provider writes under a lost answer: the sandbox applies a write, then drops the connection.

Each test shows exactly one effect at the provider: the outbox never repeats a write blind, and
reads the provider's state back before writing again.
"""

from __future__ import annotations

import re

import pytest

from models import Item, ReplyAction, ReplyStatus
from tests.service_calls import attempt_expecting_a_retry, deliver, sync
from tests.workers.facebook_support import connect_facebook, fb_admin, use_facebook_app
from tests.workers.test_facebook_sync import _reply, items
from tests.workers.test_reply import REPLY_PATH, pending_reply, posted, reload
from tests.workers.test_sync import admin

LOST_ANSWER = {"drop": True, "after_handling": True}  # applied, then no answer at all
LOST_REQUEST = {"drop": True}  # the connection drops before the provider sees it


def requests_to(sandbox, method: str, path_regex: str) -> list[dict]:
    """What the sandbox was sent (status None: it answered nothing)."""
    pattern = re.compile(path_regex)
    recent = admin(sandbox, "GET", "/requests/recent", params={"limit": 1000})["requests"]
    return [r for r in recent if r["method"] == method and pattern.search(r["path"])]


# -- Google -----------------------------------------------------------------------------------


def test_a_google_reply_whose_answer_is_lost_is_read_back_not_put_again(db, sandbox):
    # Given a reply whose updateReply Google applies, then answers nothing
    reply = pending_reply(db)
    admin(sandbox, "DELETE", "/requests")
    admin(sandbox, "POST", "/faults", json={"path": REPLY_PATH, "method": "PUT", **LOST_ANSWER})

    # When it is delivered, it goes back to the broker with its outcome unknown
    attempt_expecting_a_retry(deliver, "reply.send", reply.id)
    row = reload(db, reply)
    assert row.status == ReplyStatus.PENDING and row.attempt_started_at is not None

    # And the retry finds it at Google
    assert deliver(reply.id) == ReplyStatus.SENT

    # Then Google got exactly one updateReply, and the reply is recorded
    assert len(requests_to(sandbox, "PUT", REPLY_PATH)) == 1
    assert [p["comment"] for p in posted(sandbox)] == [reply.body]
    row = reload(db, reply)
    assert row.attempts == 2 and row.attempt_started_at is None and row.sent_at is not None
    assert db.get(Item, row.item_id).reply_text == reply.body


def test_a_google_reply_lost_before_google_saw_it_is_put_once_after_the_read_back(db, sandbox):
    reply = pending_reply(db)
    item = db.get(Item, reply.item_id)
    admin(sandbox, "DELETE", "/requests")
    admin(sandbox, "POST", "/faults", json={"path": REPLY_PATH, "method": "PUT", **LOST_REQUEST})

    attempt_expecting_a_retry(deliver, "reply.send", reply.id)
    assert posted(sandbox) == []

    assert deliver(reply.id) == ReplyStatus.SENT

    # The review was read back (nothing there), then the reply PUT once more: one effect.
    calls = [
        (r["method"], r["status"])
        for r in admin(sandbox, "GET", "/requests/recent")["requests"]
        if item.external_id in r["path"]
    ]
    assert calls == [("PUT", None), ("GET", 200), ("PUT", 200)]
    assert [p["comment"] for p in posted(sandbox)] == [reply.body]


def test_a_google_delete_whose_answer_is_lost_is_read_back_not_sent_again(db, sandbox):
    reply = pending_reply(db)
    assert deliver(reply.id) == ReplyStatus.SENT
    item = db.get(Item, reply.item_id)
    delete = _reply(db, item, "", ReplyAction.DELETE)
    admin(sandbox, "POST", "/faults", json={"path": REPLY_PATH, "method": "DELETE", **LOST_ANSWER})

    attempt_expecting_a_retry(deliver, "reply.send", delete.id)
    assert deliver(delete.id) == ReplyStatus.SENT

    assert len(requests_to(sandbox, "DELETE", REPLY_PATH)) == 1
    assert items(db, id=item.id)[0].reply_text is None


# -- Facebook ---------------------------------------------------------------------------------


@pytest.fixture
def facebook(db, sandbox, configure):
    use_facebook_app(configure, facebook_graph_version="v21.0")
    return connect_facebook(db)


def a_comment(db, facebook) -> Item:
    sync(facebook.id, "facebook_comments")
    return next(i for i in items(db, kind="comment") if i.reply_text is None)


def page_comments(sandbox, object_id: str) -> list[dict]:
    """The page's own comments under the object, as Facebook has them."""
    return [
        r
        for r in fb_admin(sandbox, "GET", "/replies")["replies"]
        if r["parent_id"] == object_id and not r["deleted"]
    ]


def test_a_facebook_reply_whose_answer_is_lost_publishes_exactly_one_comment(db, sandbox, facebook):
    # Given a comment, and Graph publishing our reply but never answering
    comment = a_comment(db, facebook)
    reply = _reply(db, comment, "Thank you, see you soon!")
    create = rf"^/facebook-graph/v[^/]+/{comment.external_id}/comments$"
    admin(sandbox, "POST", "/faults", json={"path": create, "method": "POST", **LOST_ANSWER})

    # When it is delivered, then retried
    attempt_expecting_a_retry(deliver, "reply.send", reply.id)
    assert deliver(reply.id) == ReplyStatus.SENT

    # Then the page published one comment, found by its text and time, and its id is kept
    ours = page_comments(sandbox, comment.external_id)
    assert [c["message"] for c in ours] == ["Thank you, see you soon!"]
    assert len(requests_to(sandbox, "POST", create)) == 1
    assert reload(db, reply).provider_reply_id == ours[0]["id"]
    assert items(db, id=comment.id)[0].reply_text == "Thank you, see you soon!"


def test_a_facebook_reply_lost_before_graph_saw_it_is_posted_once(db, sandbox, facebook):
    comment = a_comment(db, facebook)
    reply = _reply(db, comment, "Thanks!")
    create = rf"^/facebook-graph/v[^/]+/{comment.external_id}/comments$"
    admin(sandbox, "POST", "/faults", json={"path": create, "method": "POST", **LOST_REQUEST})

    attempt_expecting_a_retry(deliver, "reply.send", reply.id)
    assert page_comments(sandbox, comment.external_id) == []

    assert deliver(reply.id) == ReplyStatus.SENT

    assert [c["message"] for c in page_comments(sandbox, comment.external_id)] == ["Thanks!"]
    assert [r["status"] for r in requests_to(sandbox, "POST", create)] == [None, 200]


def test_a_facebook_edit_and_delete_whose_answers_are_lost_act_on_our_comment_once(
    db, sandbox, facebook
):
    # Given our reply, and then a comment the page's staff wrote by hand on Facebook
    comment = a_comment(db, facebook)
    assert deliver(_reply(db, comment, "Thanks!").id) == ReplyStatus.SENT
    (ours,) = page_comments(sandbox, comment.external_id)
    page = {"id": ours["page_id"], "name": "The page"}
    fb_admin(
        sandbox,
        "POST",
        "/comments",
        json={"parent_id": comment.external_id, "message": "By hand", "from": page},
    )
    ours_path = rf"^/facebook-graph/v[^/]+/{ours['id']}$"

    # When an edit is applied but its answer is lost, and it is retried
    admin(sandbox, "POST", "/faults", json={"path": ours_path, "method": "POST", **LOST_ANSWER})
    edit = _reply(db, comment, "Thanks a lot!", ReplyAction.UPDATE)
    attempt_expecting_a_retry(deliver, "reply.send", edit.id)
    assert deliver(edit.id) == ReplyStatus.SENT

    # Then our comment was edited once; the page's other comment is untouched
    messages = {c["id"]: c["message"] for c in page_comments(sandbox, comment.external_id)}
    assert messages[ours["id"]] == "Thanks a lot!" and "By hand" in messages.values()
    assert len(requests_to(sandbox, "POST", ours_path)) == 1

    # When a delete is applied but its answer is lost, and it is retried
    admin(sandbox, "POST", "/faults", json={"path": ours_path, "method": "DELETE", **LOST_ANSWER})
    delete = _reply(db, comment, "", ReplyAction.DELETE)
    attempt_expecting_a_retry(deliver, "reply.send", delete.id)
    assert deliver(delete.id) == ReplyStatus.SENT

    # Then our comment is gone, deleted once, and the read-back did not take the other one
    assert [c["message"] for c in page_comments(sandbox, comment.external_id)] == ["By hand"]
    assert len(requests_to(sandbox, "DELETE", ours_path)) == 1
