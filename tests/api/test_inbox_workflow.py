"""The inbox workflow: search, filters, facets, sorts, status, assignment, tags, notes, bulk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models import AuditEvent, Item, ItemNote, Role
from tests.api.conftest import Person, error_of

ITEMS = "/api/v1/items"
DAY = datetime(2025, 3, 1, tzinfo=UTC)


def _ids(client: TestClient, person: Person, **params) -> list[int]:
    response = client.get(ITEMS, params=params, headers=person.headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_search_covers_the_text_both_texts_of_a_translation_and_the_author(
    client: TestClient, owner: Person, make_item: Callable[..., Item]
):
    plain = make_item(owner.organisation, text="The croissants were superb")
    translated = make_item(
        owner.organisation, text="Excellent bread", original_text="Pain excellent, merveilleux"
    )
    by_author = make_item(owner.organisation, author_name="Grace Hopper", text="Fine")

    assert _ids(client, owner, q="croissants") == [plain.id]
    assert _ids(client, owner, q="merveilleux") == [translated.id]
    assert _ids(client, owner, q="bread") == [translated.id]
    assert _ids(client, owner, q="hopper") == [by_author.id]
    assert _ids(client, owner, q='"croissants were" -bread') == [plain.id]
    assert _ids(client, owner, q="nothing-like-this") == []


def test_workflow_filters(
    client: TestClient,
    owner: Person,
    make_person: Callable[..., Person],
    make_item: Callable[..., Item],
):
    responder = make_person(Role.RESPONDER, organisation=owner.organisation)
    open_item = make_item(owner.organisation, tags=["staff"], language="en")
    closed = make_item(
        owner.organisation, status="closed", assignee_user_id=responder.user.id, language="fr"
    )
    archived = make_item(owner.organisation, status="archived", tags=["staff", "parking"])

    assert _ids(client, owner, status="open") == [open_item.id]
    assert sorted(_ids(client, owner, status=["closed", "archived"])) == [closed.id, archived.id]
    assert _ids(client, owner, assignee_user_id=responder.user.id) == [closed.id]
    assert sorted(_ids(client, owner, unassigned=True)) == [open_item.id, archived.id]
    assert sorted(_ids(client, owner, tag="staff")) == [open_item.id, archived.id]
    assert _ids(client, owner, tag=["staff", "PARKING"]) == [archived.id]
    assert _ids(client, owner, language="fr") == [closed.id]


def test_unknown_and_bad_parameters_are_422_naming_them(client: TestClient, owner: Person):
    for params, field in [
        ({"status": "pending"}, "status.0"),
        ({"sort": "random"}, "sort"),
        ({"q": "x" * 201}, "q"),
        ({"language": "not a language"}, "language"),
        ({"surprise": "1"}, "surprise"),
    ]:
        response = client.get(ITEMS, params=params, headers=owner.headers)

        assert response.status_code == 422, params
        assert error_of(response)["field"] == field, params


@pytest.mark.parametrize("sort", ["newest", "oldest", "rating_asc", "rating_desc"])
def test_every_sort_pages_through_everything_once_in_order(
    client: TestClient, owner: Person, make_item: Callable[..., Item], sort: str
):
    items = [
        make_item(
            owner.organisation,
            rating=[1, 5, 3, None, 5, 2, 1][n % 7],
            kind="review" if n % 7 != 3 else "question",
            posted_at=DAY + timedelta(hours=n % 5),
        )
        for n in range(17)
    ]
    newest = sorted(items, key=lambda i: (i.posted_at, i.id), reverse=True)
    by_rating = sorted(items, key=lambda i: (i.rating or 0, i.posted_at, i.id))
    expected = {
        "newest": newest,
        "oldest": newest[::-1],
        "rating_asc": by_rating,
        "rating_desc": by_rating[::-1],
    }[sort]
    seen, cursor = [], None
    while True:
        params = {"limit": 4, "sort": sort} | ({"cursor": cursor} if cursor else {})
        page = client.get(ITEMS, params=params, headers=owner.headers).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [i.id for i in expected]


def test_a_cursor_only_works_for_its_own_sort(
    client: TestClient, owner: Person, make_item: Callable[..., Item]
):
    for _ in range(3):
        make_item(owner.organisation)
    cursor = client.get(ITEMS, params={"limit": 1}, headers=owner.headers).json()["next_cursor"]

    response = client.get(
        ITEMS, params={"limit": 1, "sort": "rating_asc", "cursor": cursor}, headers=owner.headers
    )

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_cursor"


def test_facets_count_the_filters_results(
    client: TestClient, owner: Person, make_item: Callable[..., Item]
):
    make_item(owner.organisation, rating=5, text="great coffee")
    make_item(owner.organisation, rating=1, text="cold coffee", status="closed", reply_text="Sorry")
    make_item(owner.organisation, rating=None, kind="question", text="coffee decaf?")
    make_item(owner.organisation, rating=4, text="tea")

    facets = client.get(f"{ITEMS}/facets", params={"q": "coffee"}, headers=owner.headers).json()

    assert facets == {
        "total": 3,
        "status": {"open": 2, "closed": 1},
        "source": {"google": 3},
        "kind": {"review": 2, "question": 1},
        "rating": {"1": 1, "5": 1, "none": 1},
        "replied": {"true": 1, "false": 2},
        "estimated": False,
    }


def test_status_assignment_tags_and_language_of_one_item(
    client: TestClient,
    db: Session,
    owner: Person,
    make_person: Callable[..., Person],
    make_item: Callable[..., Item],
):
    item = make_item(owner.organisation)
    responder = make_person(Role.RESPONDER, organisation=owner.organisation)
    viewer = make_person(Role.VIEWER, organisation=owner.organisation)
    url = f"{ITEMS}/{item.id}"

    changed = client.patch(
        url,
        json={
            "status": "closed",
            "assignee_user_id": responder.user.id,
            "tags": [" Staff ", "parking", "staff"],
            "language": "pt-BR",
        },
        headers=responder.headers,
    )
    to_viewer = client.patch(url, json={"assignee_user_id": viewer.user.id}, headers=owner.headers)
    unassigned = client.patch(url, json={"assignee_user_id": None}, headers=owner.headers)

    assert changed.status_code == 200
    body = changed.json()
    assert (body["status"], body["assignee_user_id"], body["tags"], body["language"]) == (
        "closed",
        responder.user.id,
        ["parking", "staff"],
        "pt-BR",
    )
    assert (to_viewer.status_code, error_of(to_viewer)["field"]) == (422, "assignee_user_id")
    assert unassigned.json()["assignee_user_id"] is None
    assert unassigned.json()["status"] == "closed"  # untouched fields stay
    actions = db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["item.updated", "item.updated"]


def test_notes_are_internal_and_deleted_by_their_author_or_a_manager(
    client: TestClient,
    db: Session,
    owner: Person,
    make_person: Callable[..., Person],
    make_item: Callable[..., Item],
):
    item = make_item(owner.organisation)
    alice = make_person(Role.RESPONDER, organisation=owner.organisation)
    bob = make_person(Role.RESPONDER, organisation=owner.organisation)
    notes = f"{ITEMS}/{item.id}/notes"

    first = client.post(notes, json={"body": "Called them"}, headers=alice.headers).json()
    second = client.post(notes, json={"body": "Refunded"}, headers=alice.headers).json()

    listed = client.get(notes, headers=bob.headers).json()["notes"]
    assert [n["body"] for n in listed] == ["Called them", "Refunded"]
    by_bob = client.delete(f"{notes}/{first['id']}", headers=bob.headers)
    by_alice = client.delete(f"{notes}/{first['id']}", headers=alice.headers)
    by_owner = client.delete(f"{notes}/{second['id']}", headers=owner.headers)
    assert (by_bob.status_code, by_alice.status_code, by_owner.status_code) == (403, 204, 204)
    assert db.scalar(select(ItemNote)) is None


def test_a_note_is_redacted_with_the_organisations_policy_and_stored_encrypted(
    client: TestClient, db: Session, owner: Person, make_item: Callable[..., Item]
):
    item = make_item(owner.organisation)
    client.put("/api/v1/privacy/redaction", json={"disabled_detectors": ["phone"], "patterns": []},
               headers=owner.headers)  # fmt: skip
    body = "Card 4111 1111 1111 1111, Bearer Zx81kQ0pLm2NvB7c, ann@example.com, 030 1234 5678"

    note = client.post(f"{ITEMS}/{item.id}/notes", json={"body": body}, headers=owner.headers)

    expected = "Card [redacted:card], [redacted:secret], [redacted:email], 030 1234 5678"
    assert note.status_code == 201 and note.json()["body"] == expected
    raw = db.execute(text("SELECT body FROM item_notes")).scalar()
    assert "030 1234" not in raw and "Card" not in raw  # the phone kept by policy, encrypted
    assert db.scalars(select(ItemNote.body)).one() == expected


def test_bulk_changes_every_item_the_filter_matches_and_nothing_else(
    client: TestClient,
    db: Session,
    owner: Person,
    make_person: Callable[..., Person],
    make_item: Callable[..., Item],
):
    manager = make_person(Role.MANAGER, organisation=owner.organisation)
    low = [make_item(owner.organisation, rating=r, tags=["old"]) for r in (1, 2, 2)]
    high = make_item(owner.organisation, rating=5, tags=["old"])
    others = make_item(make_person().organisation, rating=1)

    response = client.post(
        f"{ITEMS}/bulk",
        json={
            "filter": {"max_rating": 2},
            "changes": {
                "status": "closed",
                "assignee_user_id": manager.user.id,
                "add_tags": ["urgent", "Old"],
                "remove_tags": ["old"],
            },
        },
        headers=manager.headers,
    )

    assert response.json() == {"updated": 3}
    for item in [*low, high, others]:
        db.refresh(item)
    assert {(i.status, i.assignee_user_id, tuple(i.tags)) for i in low} == {
        ("closed", manager.user.id, ("urgent",))
    }
    assert (high.status, high.tags) == ("open", ["old"])
    assert others.status == "open"
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "items.bulk_updated"))
    assert event.details["updated"] == 3


def test_admins_read_the_audit_log_newest_first_page_by_page(
    client: TestClient, owner: Person, make_item: Callable[..., Item]
):
    item = make_item(owner.organisation)
    for status in ("closed", "open", "archived"):
        client.patch(f"{ITEMS}/{item.id}", json={"status": status}, headers=owner.headers)

    first = client.get("/api/v1/audit-events", params={"limit": 2}, headers=owner.headers).json()
    rest = client.get(
        "/api/v1/audit-events",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=owner.headers,
    ).json()

    events = first["events"] + rest["events"]
    assert [e["action"] for e in events] == ["item.updated"] * 3
    assert events[0]["id"] > events[1]["id"] > events[2]["id"]
    assert events[0]["ip"] == "testclient" and events[0]["actor_user_id"] == owner.user.id
    assert rest["next_cursor"] is None
