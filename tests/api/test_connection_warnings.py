"""What `GET /connections` and `GET /locations` say about providers: the pinned Graph API
version's end (PROVIDERS.md §G.4), and each location's provider id."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from models import Connection, Location
from services.sync.warnings import connection_warnings
from tests.api.conftest import Person, google_locations


def _facebook(db: Session, person: Person, **fields) -> Connection:
    connection = Connection(
        organisation_id=person.organisation.id, provider="facebook", capabilities={}, **fields
    )
    db.add(connection)
    db.commit()
    return connection


def _listed(client: TestClient, person: Person) -> dict[str, dict]:
    answer = client.get("/api/v1/connections", headers=person.headers)
    assert answer.status_code == 200, answer.text
    return {c["provider"]: c for c in answer.json()["connections"]}


def test_an_ended_pin_is_warned_about_on_facebook_connections_only(
    client: TestClient, db: Session, owner: Person, configure
):
    configure(facebook_graph_version="v20.0")  # ended 2026-09-24
    _facebook(db, owner, account_label="Ann Page")
    google_locations(db, owner.organisation.id, "north")

    listed = _listed(client, owner)

    (warning,) = [w for w in listed["facebook"]["warnings"] if w["code"].startswith("version")]
    assert warning["code"] == "version_ended" and warning["ends_on"] == "2026-09-24"
    assert "instead" in warning["message"]  # Facebook serves the oldest still available
    assert listed["facebook"]["account_label"] == "Ann Page"
    assert listed["google"]["warnings"] == []
    one = client.get(f"/api/v1/connections/{listed['facebook']['id']}", headers=owner.headers)
    assert one.json()["warnings"] == listed["facebook"]["warnings"]


def test_an_unlisted_pin_is_named_and_nothing_breaks(
    client: TestClient, db: Session, owner: Person, configure
):
    configure(facebook_graph_version="v99.0")
    _facebook(db, owner)

    codes = [w["code"] for w in _listed(client, owner)["facebook"]["warnings"]]

    assert "version_unknown" in codes


def test_the_pin_and_recommendations_are_warned_about_within_90_days_of_their_ends(
    db: Session, owner: Person, configure
):
    configure(facebook_graph_version="v22.0")
    connection = _facebook(db, owner)

    def codes(today: date) -> list[tuple[str, str]]:
        found = connection_warnings(connection, today=today)
        return [(w.code, w.ends_on.isoformat()) for w in found]

    assert codes(date(2026, 10, 1)) == []
    assert codes(date(2026, 12, 3)) == [("capability_ending", "2027-01-21")]
    assert codes(date(2027, 3, 1)) == [("version_ending", "2027-05-20")]
    # Recommendations already retired are not "ending"
    connection.capabilities = {"facebook_ratings": {"state": "retired", "message": "x"}}
    assert codes(date(2026, 12, 3)) == []


def test_locations_carry_their_provider_id(client: TestClient, db: Session, owner: Person):
    google_locations(db, owner.organisation.id, "accounts/1/locations/9")
    page = Location(
        organisation_id=owner.organisation.id,
        connection_id=_facebook(db, owner).id,
        provider="facebook",
        external_id="104857600123",
        name="Café page",
    )
    db.add(page)
    db.commit()

    listed = client.get("/api/v1/locations", headers=owner.headers).json()["locations"]

    assert {(loc["provider"], loc["external_id"]) for loc in listed} == {
        ("google", "accounts/1/locations/9"),
        ("facebook", "104857600123"),
    }
