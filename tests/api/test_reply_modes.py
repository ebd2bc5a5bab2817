"""Add an answer or edit the one shown: an item says what fits, a reply says which it means, and
a mode that does not fit is a 4xx naming `mode`. Google keeps one reply per review."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Item, Reply
from tests.api.conftest import Person, error_of


@pytest.fixture
def answered(owner: Person, make_item: Callable[..., Item]) -> Item:
    """A recommendation the page answered on Facebook (as the sync stores it)."""
    return make_item(
        owner.organisation,
        source="facebook",
        kind="recommendation",
        reply_text="Thanks, Ann!",
        reply_external_id="7_2",
    )


def _post(client: TestClient, owner: Person, item: Item, **body: object):
    return client.post(
        f"/api/v1/items/{item.id}/reply", json={"text": "Hello", **body}, headers=owner.headers
    )


def test_an_item_shows_the_pages_answer_and_what_a_reply_can_do(
    client: TestClient, owner: Person, answered: Item, make_item: Callable[..., Item]
):
    fresh = make_item(owner.organisation, source="facebook", kind="mention")
    review = make_item(owner.organisation, reply_text="Thank you")

    def shown(item: Item) -> dict:
        return client.get(f"/api/v1/items/{item.id}", headers=owner.headers).json()

    assert shown(answered)["reply"] | {"updated_at": None} == {
        "text": "Thanks, Ann!",
        "updated_at": None,
        "external_id": "7_2",
        "author": "page",
        "state": None,
        "policy_violation": None,
    }
    assert (shown(answered)["single_reply"], shown(answered)["reply_modes"]) == (
        False,
        ["add", "edit"],
    )
    assert (shown(fresh)["reply"], shown(fresh)["reply_modes"]) == (None, ["add"])
    assert (shown(review)["single_reply"], shown(review)["reply_modes"]) == (True, ["edit"])
    assert shown(review)["reply"]["author"] == "owner"
    # The inbox's rows carry the same
    listed = client.get("/api/v1/items", headers=owner.headers).json()["items"]
    assert {i["id"]: i["reply_modes"] for i in listed}[answered.id] == ["add", "edit"]


def test_a_facebook_reply_must_say_add_or_edit(client: TestClient, owner: Person, answered: Item):
    refused = _post(client, owner, answered)
    assert (refused.status_code, error_of(refused)["code"], error_of(refused)["field"]) == (
        422,
        "mode_required",
        "mode",
    )
    bad = _post(client, owner, answered, mode="replace")
    assert (bad.status_code, error_of(bad)["field"]) == (422, "mode")


def test_add_and_edit_become_a_post_and_an_update_of_the_answer_shown(
    client: TestClient, db: Session, owner: Person, answered: Item
):
    add = _post(client, owner, answered, mode="add")
    edit = _post(client, owner, answered, mode="edit")
    put = client.put(
        f"/api/v1/items/{answered.id}/reply",
        json={"text": "Hello", "mode": "edit"},
        headers=owner.headers,
    )

    assert [r.status_code for r in (add, edit, put)] == [202, 202, 202]
    rows = db.scalars(select(Reply).order_by(Reply.id)).all()
    # An edit is for the answer the item showed; an add names none (it makes a new one).
    assert [(r.action, r.provider_reply_id) for r in rows] == [
        ("post", None),
        ("update", "7_2"),
        ("update", "7_2"),
    ]


def test_edit_without_an_answer_shown_is_a_conflict_naming_mode(
    client: TestClient, owner: Person, make_item: Callable[..., Item]
):
    fresh = make_item(owner.organisation, source="facebook", kind="comment")
    refused = _post(client, owner, fresh, mode="edit")
    assert (refused.status_code, error_of(refused)["code"], error_of(refused)["field"]) == (
        409,
        "no_reply",
        "mode",
    )


def test_put_refuses_add(client: TestClient, owner: Person, answered: Item):
    refused = client.put(
        f"/api/v1/items/{answered.id}/reply",
        json={"text": "Hello", "mode": "add"},
        headers=owner.headers,
    )
    assert (refused.status_code, error_of(refused)["code"], error_of(refused)["field"]) == (
        422,
        "mode_mismatch",
        "mode",
    )


def test_google_keeps_one_reply_created_or_replaced(
    client: TestClient, db: Session, owner: Person, make_item: Callable[..., Item]
):
    new, replied = make_item(owner.organisation), make_item(owner.organisation, reply_text="Hi")

    created = _post(client, owner, new)
    replaced = _post(client, owner, replied)
    edited = _post(client, owner, replied, mode="edit")
    second = _post(client, owner, replied, mode="add")

    assert [r.status_code for r in (created, replaced, edited)] == [202, 202, 202]
    assert [r.json()["reply"]["action"] for r in (created, replaced, edited)] == [
        "post",
        "update",
        "update",
    ]
    assert (second.status_code, error_of(second)["code"], error_of(second)["field"]) == (
        409,
        "single_reply",
        "mode",
    )


def test_a_replayed_key_is_the_same_reply_even_once_the_item_has_changed(
    client: TestClient, db: Session, owner: Person, make_item: Callable[..., Item]
):
    review = make_item(owner.organisation)
    headers = {**owner.headers, "Idempotency-Key": "k1"}
    first = client.post(f"/api/v1/items/{review.id}/reply", json={"text": "Hi"}, headers=headers)
    review.reply_text = "Hi"  # sent meanwhile
    db.commit()

    again = client.post(f"/api/v1/items/{review.id}/reply", json={"text": "Hi"}, headers=headers)

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["reply"]["id"] == first.json()["reply"]["id"]
    other = client.post(
        f"/api/v1/items/{review.id}/reply", json={"text": "Hi", "mode": "edit"}, headers=headers
    )
    assert (other.status_code, error_of(other)["code"]) == (409, "idempotency_key_reused")
