"""People's comments on a recommendation's story, a read-only capability declared in one file
(``connectors/facebook/story_comments.py``), against the sandbox's wire."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import select

from models import Connection, Item
from tests.service_calls import sync
from tests.workers.facebook_support import connect_facebook, fb_admin, use_facebook_app

CAPABILITY = "facebook_story_comments"


@pytest.fixture
def facebook(db, sandbox, configure):
    use_facebook_app(configure)  # the default pin, v22.0, which refuses recommendations
    return connect_facebook(db)


def graph_paths(sandbox, pattern: str = "") -> dict[str, int]:
    counts = httpx.get(
        f"{sandbox.url}/_admin/requests", params={"path": "^/facebook-graph/" + pattern}
    ).json()
    return counts["paths"]


def story_comments(db) -> list[Item]:
    db.expire_all()
    return list(db.scalars(select(Item).where(Item.kind == "story_comment").order_by(Item.id)))


def test_peoples_comments_on_a_story_are_items_and_the_pages_answers_are_not(db, sandbox, facebook):
    # Given someone commented on a recommendation's story (the page answered some, seeded)
    page = fb_admin(sandbox, "GET", "/summary")["pages"][0]
    story = page["ratings"][1]
    author = {"id": "100000000000999", "name": "Dana Doubter"}
    fb_admin(
        sandbox,
        "POST",
        "/comments",
        json={"parent_id": story, "message": "Agreed!", "from": author},
    )
    httpx.delete(f"{sandbox.url}/_admin/requests")

    # When story comments sync
    run = sync(facebook.id, CAPABILITY)

    # Then that comment is an item of its own, by its author, and the page's answer is not
    assert run.status == "succeeded"
    [item] = story_comments(db)
    assert (item.text, item.author_name, item.author_external_id) == (
        "Agreed!", "Dana Doubter", "100000000000999",
    )  # fmt: skip
    # Read through v21.0 like recommendations (the pin, v22.0, refuses the listing of stories)
    paths = graph_paths(sandbox, r".*/(ratings|comments)$")
    assert paths and all(path.startswith("/facebook-graph/v21.0/") for path in paths)
    assert f"/facebook-graph/v21.0/{story}/comments" in paths


def test_with_nothing_new_a_pass_reads_the_recommendations_only(db, sandbox, facebook):
    assert sync(facebook.id, CAPABILITY).status == "succeeded"
    httpx.delete(f"{sandbox.url}/_admin/requests")

    run = sync(facebook.id, CAPABILITY)

    assert run.status == "succeeded" and run.written == 0
    # One request a page: its recommendations, none of its stories' comments
    paths = graph_paths(sandbox, r".*/(ratings|comments)$")
    assert sum(paths.values()) == 2 and all(path.endswith("/ratings") for path in paths)


def test_the_capability_ends_with_recommendations(db, sandbox, facebook):
    assert sync(facebook.id, CAPABILITY, today=date(2027, 1, 21)) is None
    db.expire_all()
    state = db.get(Connection, facebook.id).capabilities[CAPABILITY]
    assert state["state"] == "retired" and "2027-01-21" in state["message"]
    assert graph_paths(sandbox, r".*/ratings$") == {}
