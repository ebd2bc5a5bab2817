"""One cursor style for every list: signed, bound to its list, and given only when a next page
exists."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from core.errors import BadRequest
from models import Item, Role
from services.pagination import before_id, encode_cursor, next_by_id
from tests.api.conftest import Person, error_of
from tests.api.routes import fill, routes
from tests.api.test_tenant_isolation import NOT_IDS, _their_world


def _lists(client: TestClient) -> list[str]:
    """The path of every route that takes a page cursor."""
    return [
        path
        for method, path, operation in routes(client.app)
        if operation and any(p["name"] == "cursor" for p in operation.get("parameters", []))
    ]


def test_every_list_refuses_a_tampered_or_foreign_cursor_naming_the_field(
    client: TestClient,
    db: Session,
    make_person: Callable[..., Person],
    make_item: Callable[..., Item],
    make_api_key: Callable[..., str],
):
    # Given one of each resource, and a genuine cursor of the inbox
    owner = make_person(Role.OWNER)
    ids = _their_world(db, client, owner, make_person, make_item, make_api_key)
    make_item(owner.organisation)
    inbox = client.get("/api/v1/items", params={"limit": 1}, headers=owner.headers).json()
    genuine = inbox["next_cursor"]
    assert genuine
    lists = _lists(client)
    assert len(lists) >= 6  # inbox, replies, audit, sync runs, deliveries, recipients

    # When each list is given a cursor it did not make
    wrong: list[str] = []
    for path in lists:
        url = fill(path, NOT_IDS | ids)
        foreign = [genuine] if path != "/api/v1/items" else []  # the inbox's own is valid there
        for bad in (*foreign, genuine[:-1], genuine[:-3] + "abc", "garbage", "a.b.c", "."):
            response = client.get(url, params={"cursor": bad}, headers=owner.headers)
            # Then it is refused as a bad request naming the cursor, never a different page
            found = (response.status_code, error_of(response).get("code"), _field(response))
            if found != (400, "invalid_cursor", "cursor"):
                wrong.append(f"{path} {bad!r}: {found}")

    assert wrong == []


def _field(response) -> str | None:
    return error_of(response).get("field") if response.status_code >= 400 else None


def test_a_full_last_page_has_no_next_cursor(client: TestClient, owner: Person):
    # Given a campaign with exactly two recipients
    created = client.post("/api/v1/campaigns", json={"name": "Spring"}, headers=owner.headers)
    url = f"/api/v1/campaigns/{created.json()['campaign']['id']}/recipients"
    rows = [{"name": n, "email": f"{n.lower()}@example.com"} for n in ("Ann", "Bo")]
    assert client.post(url, json={"recipients": rows}, headers=owner.headers).status_code == 200

    # When they are read two at a time, then one at a time
    whole = client.get(url, params={"limit": 2}, headers=owner.headers).json()
    first = client.get(url, params={"limit": 1}, headers=owner.headers).json()
    rest = client.get(
        url, params={"limit": 1, "cursor": first["next_cursor"]}, headers=owner.headers
    ).json()

    # Then a page that holds the last row offers no next page, and pages never overlap
    assert [r["name"] for r in whole["recipients"]] == ["Ann", "Bo"]
    assert whole["next_cursor"] is None
    assert [r["name"] for r in first["recipients"]] == ["Ann"] and first["next_cursor"]
    assert [r["name"] for r in rest["recipients"]] == ["Bo"] and rest["next_cursor"] is None


class _Row:
    def __init__(self, row_id: int) -> None:
        self.id = row_id


def test_a_cursor_holds_its_position_for_its_own_list_only():
    cursor = next_by_id("replies", [_Row(7), _Row(5)], has_more=True)
    assert cursor is not None and before_id("replies", cursor) == 5
    assert next_by_id("replies", [_Row(7), _Row(5)], has_more=False) is None
    assert before_id("replies", None) is None
    with pytest.raises(BadRequest) as refused:
        before_id("audit", cursor)
    assert refused.value.field == "cursor"
    # Signed, but not a position of this kind of list: refused all the same.
    for values in (["7"], [True], [1, 2], [None]):
        with pytest.raises(BadRequest):
            before_id("replies", encode_cursor("replies", values))
