"""The inbox: filters, keyset paging, cursors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from models import Item, Reply
from models.db import get_engine
from tests.api.conftest import Person, error_of, google_locations

ITEMS = "/api/v1/items"
DAY = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def inbox(db: Session, owner: Person, make_item: Callable[..., Item]) -> dict[str, Item]:
    """Six items across two locations, sources, ratings, days and reply states."""
    org = owner.organisation
    connection, (north, south) = google_locations(db, org.id, "north", "south")
    google = {"connection_id": connection.id}
    return {
        "old_one_star": make_item(
            org, **google, location_id=north.id, rating=1, posted_at=DAY - timedelta(days=3)
        ),
        "two_star_replied": make_item(
            org,
            **google,
            location_id=north.id,
            rating=2,
            posted_at=DAY - timedelta(days=2),
            reply_text="Sorry",
            reply_updated_at=DAY,
        ),
        "five_star_south": make_item(
            org, **google, location_id=south.id, rating=5, posted_at=DAY - timedelta(days=1)
        ),
        "question": make_item(
            org, **google, location_id=south.id, kind="question", rating=None, posted_at=DAY
        ),
        "feedback": make_item(
            org, source="plaudit", kind="feedback", rating=3, posted_at=DAY + timedelta(hours=1)
        ),
        "deleted": make_item(
            org,
            **google,
            location_id=north.id,
            rating=4,
            posted_at=DAY + timedelta(hours=2),
            deleted=True,
        ),
    }


def _ids(client: TestClient, person: Person, **params: object) -> list[int]:
    response = client.get(ITEMS, params=params, headers=person.headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_newest_first_without_deleted_items(client: TestClient, owner: Person, inbox):
    names = ["feedback", "question", "five_star_south", "two_star_replied", "old_one_star"]

    assert _ids(client, owner) == [inbox[n].id for n in names]


def test_each_filter(client: TestClient, owner: Person, inbox):
    north = inbox["old_one_star"].location_id
    south = inbox["five_star_south"].location_id
    expectations = [
        ({"location_id": north}, ["two_star_replied", "old_one_star"]),
        (
            {"location_id": [north, south]},
            ["question", "five_star_south", "two_star_replied", "old_one_star"],
        ),
        ({"source": "plaudit"}, ["feedback"]),
        ({"kind": "question"}, ["question"]),
        ({"rating": [1, 5]}, ["five_star_south", "old_one_star"]),
        ({"min_rating": 2, "max_rating": 3}, ["feedback", "two_star_replied"]),
        ({"replied": "true"}, ["two_star_replied"]),
        (
            {"replied": "false", "source": "google", "kind": "review"},
            ["five_star_south", "old_one_star"],
        ),
        ({"since": "2025-03-09"}, ["feedback", "question", "five_star_south"]),
        ({"until": "2025-03-08"}, ["two_star_replied", "old_one_star"]),
        ({"since": "2025-03-10T12:00:00Z", "until": "2025-03-10T13:00:00+00:00"}, ["question"]),
        ({"include_deleted": "true", "min_rating": 4}, ["deleted", "five_star_south"]),
    ]
    for params, names in expectations:
        assert _ids(client, owner, **params) == [inbox[n].id for n in names], params


def test_an_item_has_its_reply_and_latest_outbox_row(
    client: TestClient, db: Session, owner: Person, inbox
):
    item = inbox["two_star_replied"]
    older = Reply(
        organisation_id=owner.organisation.id,
        item_id=item.id,
        body="a",
        status="failed",
        idempotency_key="k1",
    )
    newer = Reply(
        organisation_id=owner.organisation.id,
        item_id=item.id,
        body="b",
        status="sent",
        idempotency_key="k2",
    )
    db.add(older)
    db.flush()
    db.add(newer)
    db.commit()

    listed = client.get(ITEMS, params={"replied": "true"}, headers=owner.headers).json()["items"][0]
    detail = client.get(f"{ITEMS}/{item.id}", headers=owner.headers).json()

    assert listed["reply"]["text"] == "Sorry"
    assert listed["replied"] is True
    assert listed["latest_reply"] == {"id": newer.id, "status": "sent"}
    assert listed["author"] == {"name": item.author_name, "anonymous": False, "photo_url": None}
    assert [r["id"] for r in detail["replies"]] == [newer.id, older.id]
    assert detail["latest_reply"]["id"] == newer.id


def test_keyset_paging_visits_every_item_once_in_order(
    client: TestClient, owner: Person, make_item: Callable[..., Item]
):
    # Ties on posted_at are broken by id, so a page boundary inside a tie loses nothing.
    items = [
        make_item(owner.organisation, posted_at=DAY - timedelta(hours=n // 3)) for n in range(23)
    ]
    expected = [i.id for i in sorted(items, key=lambda i: (i.posted_at, i.id), reverse=True)]

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = client.get(ITEMS, params=params, headers=owner.headers).json()
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == expected
    assert pages == 5


def test_a_tampered_cursor_is_a_400(
    client: TestClient, owner: Person, make_item: Callable[..., Item]
):
    for n in range(3):
        make_item(owner.organisation, posted_at=DAY + timedelta(minutes=n))
    cursor = client.get(ITEMS, params={"limit": 1}, headers=owner.headers).json()["next_cursor"]
    payload, signature = cursor.split(".")

    for bad in (payload[:-2] + "AA." + signature, payload, "garbage", "a.b.c", "€"):
        response = client.get(ITEMS, params={"cursor": bad}, headers=owner.headers)

        assert response.status_code == 400, bad
        assert (error_of(response)["code"], error_of(response)["field"]) == (
            "invalid_cursor",
            "cursor",
        )


def test_bad_filters_are_422_naming_the_field(client: TestClient, owner: Person):
    cases = [
        ({"since": "yesterday"}, "since"),
        ({"since": "1700000000"}, "since"),
        ({"until": "2025-02-30"}, "until"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"source": "myspace"}, "source"),
        ({"rating": 6}, "rating.0"),
        ({"min_rating": 0}, "min_rating"),
        ({"replied": "perhaps"}, "replied"),
        ({"location_id": "north"}, "location_id.0"),
    ]
    for params, field in cases:
        response = client.get(ITEMS, params=params, headers=owner.headers)

        assert response.status_code == 422, params
        assert (error_of(response)["code"], error_of(response)["field"]) == ("invalid", field), (
            params
        )


def test_the_far_future_is_not_an_error(client: TestClient, owner: Person):
    assert _ids(client, owner, until="9999-12-31") == []


def test_a_page_with_outbox_rows_is_one_statement(
    client: TestClient, db: Session, owner: Person, make_item: Callable[..., Item]
):
    items = [make_item(owner.organisation, posted_at=DAY + timedelta(minutes=n)) for n in range(30)]
    db.add_all(
        Reply(
            organisation_id=owner.organisation.id, item_id=i.id, body="x", idempotency_key=str(i.id)
        )
        for i in items
    )
    db.commit()
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = client.get(ITEMS, params={"limit": 25}, headers=owner.headers).json()
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert len(page["items"]) == 25
    assert all(item["latest_reply"] for item in page["items"])
    inbox_statements = [s for s in statements if "FROM items" in s or "FROM replies" in s]
    assert len(inbox_statements) == 1, statements
