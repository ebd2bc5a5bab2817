"""Mentions of the page in comments (PROVIDERS.md §E): only the `mention` webhook tells of them,
since `/tagged` lists posts; a full pass of mentions keeps them while Facebook has them, and
reads the page's answer to them as it does for tagged posts."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, update

from models import Checkpoint, Item, Location
from tests.service_calls import apply_facebook, sync
from tests.workers.facebook_support import connect_facebook, fb_admin, use_facebook_app

TAGGED = "facebook_tagged"


@pytest.fixture
def page(db, sandbox, configure):
    """A connected page whose mentions have been synced once; its Facebook id."""
    use_facebook_app(configure, facebook_graph_version="v21.0")
    connection = connect_facebook(db)
    assert sync(connection.id, TAGGED).status == "succeeded"
    return connection, db.scalars(select(Location.external_id).order_by(Location.id)).first()


def mention_in_a_comment(page_id: str, comment_id: str, post_id: str) -> dict:
    """Meta's delivery for it, without a sender (mention comment events may lack one, §E)."""
    change = {
        "field": "mention",
        "value": {
            "item": "comment",
            "verb": "add",
            "post_id": post_id,
            "comment_id": comment_id,
            "message": "Best croissants in town",
            "created_time": int(time.time()),
        },
    }
    entry = {"id": page_id, "time": int(time.time()), "changes": [change]}
    return {"object": "page", "entry": [entry]}


def full_pass(db, connection_id: int) -> None:
    db.execute(update(Checkpoint).values(last_full_pass_at=None))
    db.commit()
    run = sync(connection_id, TAGGED)
    assert run.status == "succeeded", run.errors


def mention(db, external_id: str) -> Item:
    db.expire_all()
    return db.scalars(select(Item).where(Item.external_id == external_id)).one()


def test_a_mention_in_a_comment_stays_after_a_full_pass_and_shows_the_pages_answer(
    db, sandbox, page
):
    # Given a mention of the page in a comment on someone's own post, come by webhook
    connection, page_id = page
    made = fb_admin(
        sandbox, "POST", "/mentions", json={"page_id": page_id, "in": "comment", "message": "Hi"}
    )
    assert apply_facebook(mention_in_a_comment(page_id, made["id"], made["post_id"])) == 1
    item = mention(db, made["id"])
    assert item.kind == "mention" and item.reply_text is None
    # And the page's answer to it, written on Facebook
    answer = fb_admin(
        sandbox,
        "POST",
        "/comments",
        json={"parent_id": made["id"], "message": "Thank you!", "from": {"id": page_id}},
    )

    # When mentions have their full pass (which /tagged's listing alone would call it gone in)
    full_pass(db, connection.id)

    # Then the mention is still in the inbox, with the page's answer as its reply
    item = mention(db, made["id"])
    assert not item.deleted
    assert (item.reply_text, item.reply_external_id) == ("Thank you!", answer["id"])


def test_a_mention_in_a_comment_facebook_no_longer_has_is_gone_after_a_full_pass(db, sandbox, page):
    # Given a mention by webhook of a comment Facebook does not have (since deleted)
    connection, page_id = page
    gone = f"{page_id}_990000001"
    assert apply_facebook(mention_in_a_comment(page_id, gone, f"{page_id}_990000000")) == 1

    # When mentions have their full pass
    full_pass(db, connection.id)

    # Then it is marked deleted, and the tagged posts are all still there
    assert mention(db, gone).deleted
    tagged = db.scalars(select(Item).where(Item.kind == "mention", Item.external_id != gone))
    assert [i for i in tagged if i.deleted] == []
