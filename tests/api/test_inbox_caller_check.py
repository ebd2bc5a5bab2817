"""The inbox page checks its caller in the page's own statement, built for the scope the caller's
session had last time (api.deps.read_as_caller): whatever that remembered scope says, a logged-out
session, a removed member, a revoked key or a changed location limit holds from the very next
request."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from models import ApiKey, Item, Membership, Role
from tests.api.conftest import PASSWORD, Person, error_of, google_locations

ITEMS = "/api/v1/items"


def _log_in(client: TestClient, person: Person) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/login", json={"email": person.user.email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _ids(client: TestClient, headers: dict[str, str]) -> list[int]:
    response = client.get(ITEMS, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_a_logged_out_session_is_refused_on_the_very_next_page(
    client: TestClient, owner: Person, make_item: Callable[..., Item]
):
    # Given a session whose scope the API has seen on two pages (the second built from it)
    item = make_item(owner.organisation)
    session = _log_in(client, owner)
    assert _ids(client, session) == [item.id]
    assert _ids(client, session) == [item.id]

    # When it logs out, then asks for the page again
    assert client.post("/api/v1/auth/logout", headers=session).status_code == 204
    refused = client.get(ITEMS, headers=session)

    # Then it is refused at once, and stays refused
    assert refused.status_code == 401
    assert error_of(refused)["code"] == "invalid_token"
    assert client.get(ITEMS, headers=session).status_code == 401


def test_a_removed_member_is_refused_on_the_very_next_page_even_for_an_empty_one(
    client: TestClient, db: Session, make_person: Callable[..., Person]
):
    viewer = make_person(Role.VIEWER)
    session = _log_in(client, viewer)
    assert _ids(client, session) == []
    assert _ids(client, session) == []  # the check rides on a page of no rows too

    db.execute(delete(Membership).where(Membership.user_id == viewer.user.id))
    db.commit()

    assert client.get(ITEMS, headers=session).status_code == 401


def test_a_new_location_limit_holds_on_the_very_next_page(
    client: TestClient,
    db: Session,
    make_person: Callable[..., Person],
    make_item: Callable[..., Item],
):
    # Given items at two locations, seen on pages by an unlimited manager
    manager = make_person(Role.MANAGER)
    _, (north, south) = google_locations(db, manager.organisation.id, "north", "south")
    north_item = make_item(manager.organisation, location_id=north.id)
    south_item = make_item(manager.organisation, location_id=south.id)
    session = _log_in(client, manager)
    assert sorted(_ids(client, session)) == sorted([north_item.id, south_item.id])
    assert sorted(_ids(client, session)) == sorted([north_item.id, south_item.id])

    # When the member is limited to the north, the next page shows the north only
    db.execute(update(Membership).values(location_ids=[north.id]))
    db.commit()
    assert _ids(client, session) == [north_item.id]
    assert _ids(client, session) == [north_item.id]

    # And when the limit is lifted, everything again
    db.execute(update(Membership).values(location_ids=None))
    db.commit()
    assert sorted(_ids(client, session)) == sorted([north_item.id, south_item.id])


def test_a_revoked_api_key_is_refused_on_the_very_next_page(
    client: TestClient, db: Session, owner: Person, make_api_key: Callable[..., str]
):
    headers = {"X-API-Key": make_api_key(owner)}
    assert _ids(client, headers) == []

    db.execute(update(ApiKey).values(revoked_at=ApiKey.created_at))
    db.commit()

    refused = client.get(ITEMS, headers=headers)
    assert refused.status_code == 401
    assert error_of(refused)["code"] == "invalid_api_key"


def test_pages_in_the_one_statement_keep_their_order_and_cursor(
    client: TestClient, owner: Person, make_item: Callable[..., Item]
):
    from datetime import UTC, datetime, timedelta

    start = datetime(2025, 1, 1, tzinfo=UTC)
    items = [
        make_item(owner.organisation, rating=1 + n % 5, posted_at=start + timedelta(days=n))
        for n in range(7)
    ]
    session = _log_in(client, owner)
    _ids(client, session)  # the session's scope is known from here on

    newest = client.get(ITEMS, params={"limit": 3}, headers=session).json()
    rest = client.get(
        ITEMS, params={"limit": 10, "cursor": newest["next_cursor"]}, headers=session
    ).json()
    assert [i["id"] for i in newest["items"] + rest["items"]] == [i.id for i in reversed(items)]
    assert rest["next_cursor"] is None

    by_rating = client.get(ITEMS, params={"sort": "rating_asc"}, headers=session).json()
    assert [i["id"] for i in by_rating["items"]] == [
        i.id for i in sorted(items, key=lambda i: (i.rating, i.posted_at))
    ]
