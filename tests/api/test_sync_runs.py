"""A connection's sync runs through the API: the truth about each, and nothing of the provider's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from models import Connection, SyncRun
from tests.api.conftest import Person, error_of
from tests.fixtures import connect_google
from tests.service_calls import sync
from tests.support import this_runs_broker

REVIEWS_PATH = r"^/mybusiness/v4/.*/reviews$"


def _runs(db: Session, connection: Connection, count: int) -> list[SyncRun]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    runs = [
        SyncRun(
            connection_id=connection.id,
            capability="google_reviews",
            status="succeeded",
            started_at=start + timedelta(minutes=n),
            finished_at=start + timedelta(minutes=n, seconds=2),
            duration_ms=2000,
            requests=2,
            fetched=n,
            written=n,
            skipped=0,
            deleted=0,
            errors=[],
        )
        for n in range(count)
    ]
    db.add_all(runs)
    db.commit()
    return runs


def test_runs_are_listed_newest_first_in_pages(client: TestClient, db: Session, owner: Person):
    connection = Connection(organisation_id=owner.organisation.id, provider="google")
    db.add(connection)
    db.commit()
    made = _runs(db, connection, 5)
    url = f"/api/v1/connections/{connection.id}/sync-runs"

    first = client.get(url, params={"limit": 3}, headers=owner.headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [r["id"] for r in page["sync_runs"]] == [r.id for r in reversed(made)][:3]
    assert page["next_cursor"]
    rest = client.get(
        url, params={"limit": 3, "cursor": page["next_cursor"]}, headers=owner.headers
    ).json()
    assert [r["id"] for r in rest["sync_runs"]] == [made[1].id, made[0].id]
    assert rest["next_cursor"] is None

    # A cursor of another connection's list is refused, naming the field
    other = Connection(organisation_id=owner.organisation.id, provider="google")
    db.add(other)
    db.commit()
    _runs(db, other, 4)
    theirs = client.get(
        f"/api/v1/connections/{other.id}/sync-runs", params={"limit": 1}, headers=owner.headers
    ).json()["next_cursor"]
    foreign = client.get(url, params={"cursor": theirs}, headers=owner.headers)
    assert foreign.status_code == 400 and error_of(foreign)["field"] == "cursor"


def test_another_organisations_connection_is_a_404(
    client: TestClient, db: Session, owner: Person, make_person
):
    stranger = make_person()  # an owner of another organisation
    connection = Connection(organisation_id=stranger.organisation.id, provider="google")
    db.add(connection)
    db.commit()
    _runs(db, connection, 1)

    response = client.get(f"/api/v1/connections/{connection.id}/sync-runs", headers=owner.headers)

    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_a_failed_run_shows_its_error_class_and_never_the_providers_message(
    client: TestClient, db: Session, owner: Person
):
    connection = Connection(organisation_id=owner.organisation.id, provider="google")
    db.add(connection)
    db.commit()
    secret = "Bearer ya29.secret-token for owner@example.com"
    db.add(
        SyncRun(
            connection_id=connection.id,
            capability="google_reviews",
            status="failed",
            error_class="NeedsReauth",
            errors=[
                {"type": "NotFound", "message": secret, "location": "accounts/1/locations/2"},
                {"type": "NeedsReauth", "message": secret, "location": None},
            ],
        )
    )
    db.commit()

    response = client.get(f"/api/v1/connections/{connection.id}/sync-runs", headers=owner.headers)

    (run,) = response.json()["sync_runs"]
    assert run["status"] == "failed" and run["error_class"] == "NeedsReauth"
    assert run["errors"] == [
        {"error_class": "NotFound", "location": "accounts/1/locations/2"},
        {"error_class": "NeedsReauth", "location": None},
    ]
    assert "ya29" not in response.text and "@" not in response.text


def test_a_sync_that_waited_out_a_rate_limit_is_one_succeeded_run(
    client: TestClient, db: Session, owner: Person, sandbox
):
    # Given a connection of the organisation whose first review page Google refuses for 2 min
    connection = connect_google(db)
    connection.organisation_id = owner.organisation.id
    db.commit()
    this_runs_broker().flush_all()
    fault = {"path": REVIEWS_PATH, "status": 429, "retry_after": 120, "times": 1}
    assert httpx.post(f"{sandbox.url}/_admin/faults", json=fault).status_code < 400
    url = f"/api/v1/connections/{connection.id}/sync-runs"

    # When it syncs, it waits; and when its continuation runs, it finishes
    paused = sync(connection.id, "google_reviews")
    waiting = client.get(url, headers=owner.headers).json()["sync_runs"]
    sync(connection.id, "google_reviews", run_id=paused.id, stalls=1)
    this_runs_broker().flush_all()

    # Then the API shows one run: waiting, then succeeded, with the wait and what it did
    assert [(r["status"], r["resumes_at"] is not None) for r in waiting] == [("waiting", True)]
    (run,) = client.get(url, headers=owner.headers).json()["sync_runs"]
    assert run["status"] == "succeeded" and run["error_class"] is None
    assert run["rate_limit_waits"] == 1 and run["written"] == 60 and run["fetched"] == 60
    assert run["requests"] >= 3 and run["finished_at"] and run["duration_ms"] is not None
