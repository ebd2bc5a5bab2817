"""Connecting Google: authorize, the callback, listing and syncing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent, Connection, Location, OAuthState, Role
from scheduler.loop import enqueue_due_syncs
from tests.api.conftest import Person, error_of

AUTHORIZE = "/api/v1/connections/google/authorize"
CALLBACK = "/api/v1/connections/google/callback"


def _authorize(client: TestClient, person: Person, **body: str) -> str:
    response = client.post(AUTHORIZE, json=body or None, headers=person.headers)
    assert response.status_code == 200, response.text
    return response.json()["state"]


def test_authorize_returns_a_pkce_consent_url_and_keeps_the_state(
    client: TestClient, db: Session, owner: Person
):
    response = client.post(AUTHORIZE, headers=owner.headers)

    assert response.status_code == 200
    body = response.json()
    query = parse_qs(urlsplit(body["authorization_url"]).query)
    assert query["state"] == [body["state"]]
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"]
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/api/v1/connections/google/callback"]
    stored = db.get(OAuthState, body["state"])
    assert (stored.organisation_id, stored.user_id) == (owner.organisation.id, owner.user.id)
    assert stored.code_verifier and stored.code is None
    assert timedelta(minutes=9) < stored.expires_at - datetime.now(UTC) <= timedelta(minutes=10)


def test_authorize_rejects_unknown_providers_and_bad_redirects(client: TestClient, owner: Person):
    unknown = client.post("/api/v1/connections/myspace/authorize", headers=owner.headers)
    assert unknown.status_code == 404
    assert error_of(unknown)["code"] == "unknown_provider"

    for target in (
        "javascript:alert(1)",
        "https://x.example/\r\nSet-Cookie: a=b",
        "https://evil.example/connected",  # another host: an open redirect
        "//evil.example/connected",  # scheme-relative: another host
        "/\\evil.example",  # browsers read a backslash as a slash
        "https:evil.example",
        "http://127.0.0.1:8000@evil.example/",
        "http://127.0.0.1:8001/",  # our host, another port: another origin
        "https://127.0.0.1:8000/",  # another scheme
    ):
        bad = client.post(AUTHORIZE, json={"redirect_after": target}, headers=owner.headers)
        assert bad.status_code == 422, target
        assert error_of(bad)["field"] == "redirect_after"
    for target in ("/connections?tab=google", "http://127.0.0.1:8000/app"):
        good = client.post(AUTHORIZE, json={"redirect_after": target}, headers=owner.headers)
        assert good.status_code == 200, target


def test_a_dashboard_origin_allowed_by_cors_is_a_redirect_target(
    client: TestClient, owner: Person, configure
):
    configure(cors_allowed_origins="https://app.example")
    state = _authorize(client, owner, redirect_after="https://app.example/connected")
    response = client.get(CALLBACK, params={"state": state, "code": "c"}, follow_redirects=False)
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).netloc == "app.example"


def test_a_stored_target_no_longer_allowed_is_not_followed(
    client: TestClient, db: Session, owner: Person
):
    state = _authorize(client, owner)
    db.execute(OAuthState.__table__.update().values(redirect_after="https://evil.example/"))
    db.commit()
    response = client.get(CALLBACK, params={"state": state, "code": "c"}, follow_redirects=False)
    assert response.status_code == 200
    assert "Location" not in response.headers


def test_callback_creates_a_connecting_connection_and_hands_the_code_over(
    client: TestClient, db: Session, owner: Person, sent: list
):
    state = _authorize(client, owner)

    response = client.get(CALLBACK, params={"state": state, "code": "4/abc", "scope": "s1 s2"})

    assert response.status_code == 200, response.text
    connection = response.json()["connection"]
    assert (connection["status"], connection["provider"]) == ("connecting", "google")
    db.expire_all()
    stored = db.get(OAuthState, state)
    assert (stored.code, stored.granted_scopes, stored.connection_id) == (
        "4/abc",
        "s1 s2",
        connection["id"],
    )
    assert db.get(Connection, connection["id"]).organisation_id == owner.organisation.id
    assert ("connect.finish", (state,)) in sent
    assert "connection.created" in db.scalars(select(AuditEvent.action)).all()


def test_a_state_works_only_once(client: TestClient, db: Session, owner: Person):
    state = _authorize(client, owner)
    assert client.get(CALLBACK, params={"state": state, "code": "c"}).status_code == 200

    again = client.get(CALLBACK, params={"state": state, "code": "c"})

    assert again.status_code == 400
    assert error_of(again)["code"] == "invalid_state"
    assert db.scalar(select(Connection.id).offset(1)) is None  # still just one


def test_callback_redirects_when_asked(client: TestClient, owner: Person):
    state = _authorize(client, owner, redirect_after="/connected?tab=google")

    response = client.get(CALLBACK, params={"state": state, "code": "c"}, follow_redirects=False)

    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.netloc == ""
    assert location.path == "/connected"
    assert parse_qs(location.query)["tab"] == ["google"]
    assert parse_qs(location.query)["connection_id"][0].isdigit()


def test_access_denied_spends_the_state(client: TestClient, db: Session, owner: Person):
    state = _authorize(client, owner)

    denied = client.get(CALLBACK, params={"state": state, "error": "access_denied"})

    assert denied.status_code == 400
    assert error_of(denied)["code"] == "access_denied"
    db.expire_all()
    assert db.get(OAuthState, state) is None
    retry = client.get(CALLBACK, params={"state": state, "code": "c"})
    assert error_of(retry)["code"] == "invalid_state"
    assert db.scalar(select(Connection)) is None


def test_a_refusal_goes_back_to_the_app_that_asked(client: TestClient, db: Session, owner: Person):
    state = _authorize(client, owner, redirect_after="/connections")

    denied = client.get(
        CALLBACK, params={"state": state, "error": "access_denied"}, follow_redirects=False
    )

    assert denied.status_code == 303
    assert denied.headers["Location"] == "/connections?error=access_denied"
    db.expire_all()
    assert db.get(OAuthState, state) is None
    assert db.scalar(select(Connection)) is None


def test_unknown_expired_or_malformed_states_are_rejected(
    client: TestClient, db: Session, owner: Person
):
    state = _authorize(client, owner)
    db.get(OAuthState, state).expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.commit()

    for params in (
        {"state": state, "code": "c"},
        {"state": "never-issued", "code": "c"},
        {"state": "bad\x00state", "code": "c"},
        {"code": "c"},
    ):
        response = client.get(CALLBACK, params=params)

        assert response.status_code in (400, 422), params
        assert error_of(response)["code"] in ("invalid_state", "invalid"), params
    assert db.scalar(select(Connection)) is None


def test_only_admins_may_connect(client: TestClient, make_person: Callable[..., Person]):
    manager = make_person(Role.MANAGER)

    response = client.post(AUTHORIZE, headers=manager.headers)

    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_listing_connections_with_location_counts(
    client: TestClient, db: Session, owner: Person, make_person: Callable[..., Person]
):
    connection = Connection(
        organisation_id=owner.organisation.id, provider="google", account_label="Ada"
    )
    db.add(connection)
    db.flush()
    db.add_all(
        Location(
            organisation_id=owner.organisation.id,
            connection_id=connection.id,
            provider="google",
            external_id=f"accounts/1/locations/{n}",
            name=f"Shop {n}",
        )
        for n in range(3)
    )
    db.commit()
    viewer = make_person(Role.VIEWER, organisation=owner.organisation)

    listed = client.get("/api/v1/connections", headers=viewer.headers).json()["connections"]
    one = client.get(f"/api/v1/connections/{connection.id}", headers=viewer.headers).json()
    locations = client.get(
        "/api/v1/locations", params={"connection_id": connection.id}, headers=viewer.headers
    ).json()["locations"]

    assert [c["location_count"] for c in listed] == [3]
    assert one["account_label"] == "Ada" and one["needs_reauth"] is False
    assert [loc["name"] for loc in locations] == ["Shop 0", "Shop 1", "Shop 2"]


def test_sync_now_enqueues_once_for_managers_only(
    client: TestClient, db: Session, owner: Person, make_person: Callable[..., Person], sent: list
):
    # Q&A as the workers recorded it: off in this deployment
    connection = Connection(
        organisation_id=owner.organisation.id,
        provider="google",
        capabilities={"google_qanda": {"state": "disabled"}},
    )
    db.add(connection)
    db.commit()
    manager = make_person(Role.MANAGER, organisation=owner.organisation)
    responder = make_person(Role.RESPONDER, organisation=owner.organisation)

    forbidden = client.post(f"/api/v1/connections/{connection.id}/sync", headers=responder.headers)
    accepted = client.post(f"/api/v1/connections/{connection.id}/sync", headers=manager.headers)

    assert forbidden.status_code == 403
    assert accepted.status_code == 202
    assert accepted.json()["enqueued"] == ["google_reviews"]
    assert sent == [("sync.capability", (connection.id, "google_reviews"))]

    # While the message waits for a busy worker, the scheduler does not enqueue it again
    soon = datetime.now(UTC) + timedelta(seconds=5)
    assert enqueue_due_syncs(soon) == 0
    assert sent == [("sync.capability", (connection.id, "google_reviews"))]
    # but once the lease has run out (the message was lost), it does
    db.expire_all()
    assert enqueue_due_syncs(db.get(Connection, connection.id).next_sync_at) == 1


def test_a_connection_that_needs_reauth_cannot_sync(
    client: TestClient, db: Session, owner: Person, sent: list
):
    connection = Connection(
        organisation_id=owner.organisation.id, provider="google", status="needs_reauth"
    )
    db.add(connection)
    db.commit()

    response = client.post(f"/api/v1/connections/{connection.id}/sync", headers=owner.headers)

    assert response.status_code == 409
    assert error_of(response)["code"] == "connection_not_active"
    assert sent == []
