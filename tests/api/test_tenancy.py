"""Another organisation's resources do not exist, as far as the API lets on."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from models import Connection, Item, Location, Reply
from tests.api.conftest import Person, error_of


def test_other_organisations_resources_are_404(
    client: TestClient,
    db: Session,
    make_person: Callable[..., Person],
    make_item: Callable[..., Item],
):
    mine, theirs = make_person(), make_person()
    connection = Connection(organisation_id=theirs.organisation.id, provider="google")
    db.add(connection)
    db.flush()
    db.add(
        Location(
            organisation_id=theirs.organisation.id,
            connection_id=connection.id,
            provider="google",
            external_id="l",
        )
    )
    db.commit()
    item = make_item(theirs.organisation, connection_id=connection.id)
    reply = Reply(
        organisation_id=theirs.organisation.id, item_id=item.id, body="x", idempotency_key="k"
    )
    db.add(reply)
    db.commit()

    for method, path in [
        ("GET", f"/api/v1/connections/{connection.id}"),
        ("POST", f"/api/v1/connections/{connection.id}/sync"),
        ("GET", f"/api/v1/items/{item.id}"),
        ("GET", f"/api/v1/replies/{reply.id}"),
    ]:
        response = client.request(method, path, headers=mine.headers)

        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
    refused = client.post(
        f"/api/v1/items/{item.id}/reply", json={"text": "hi"}, headers=mine.headers
    )
    assert refused.status_code == 404

    assert client.get("/api/v1/connections", headers=mine.headers).json() == {"connections": []}
    assert client.get("/api/v1/locations", headers=mine.headers).json() == {"locations": []}
    assert client.get("/api/v1/items", headers=mine.headers).json() == {
        "items": [],
        "next_cursor": None,
    }
    assert (
        client.get("/api/v1/items", params={"location_id": 1}, headers=mine.headers).json()["items"]
        == []
    )
