"""API keys: shown once, stored hashed, scoped, expiring, revocable, audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiKey, AuditEvent, Item, Membership, Role, Scope
from tests.api.conftest import Person, error_of

KEYS = "/api/v1/api-keys"


def test_a_key_is_shown_once_and_stored_only_as_a_hash(
    client: TestClient, db: Session, owner: Person
):
    created = client.post(
        KEYS, json={"name": "CRM", "scopes": ["read", "reply"]}, headers=owner.headers
    )

    assert created.status_code == 201
    body = created.json()
    key = body["key"]
    assert key.startswith(body["api_key"]["prefix"] + "_")
    assert body["api_key"]["scopes"] == ["read", "reply"]
    row = db.scalar(select(ApiKey))
    assert key not in (row.key_hash, row.prefix) and len(row.key_hash) == 64
    listed = client.get(KEYS, headers=owner.headers)
    assert key not in listed.text
    assert [k["prefix"] for k in listed.json()["api_keys"]] == [body["api_key"]["prefix"]]


def test_a_key_authenticates_records_its_use_and_is_named_in_the_audit_log(
    client: TestClient, db: Session, owner: Person, make_item: Callable[..., Item]
):
    item = make_item(owner.organisation)
    key = client.post(KEYS, json={"name": "bot", "scopes": ["reply"]}, headers=owner.headers)
    headers = {"X-API-Key": key.json()["key"]}

    listed = client.get("/api/v1/items", headers=headers)
    tagged = client.patch(f"/api/v1/items/{item.id}", json={"tags": ["bot"]}, headers=headers)

    assert listed.status_code == 200 and tagged.status_code == 200
    row = db.scalar(select(ApiKey))
    db.refresh(row)
    assert row.last_used_at is not None
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "item.updated"))
    assert event.details["api_key_id"] == row.id and event.actor_user_id == owner.user.id


def test_revoked_expired_and_orphaned_keys_stop_working(
    client: TestClient,
    db: Session,
    owner: Person,
    make_person: Callable[..., Person],
    make_api_key: Callable[..., str],
):
    admin = make_person(Role.ADMIN, organisation=owner.organisation)
    revoked = make_api_key(owner, Scope.READ)
    expired = make_api_key(owner, Scope.READ, expires_at=datetime.now(UTC) + timedelta(seconds=1))
    orphaned = make_api_key(admin, Scope.READ)
    revoked_id = db.scalar(select(ApiKey.id).order_by(ApiKey.id).limit(1))
    db.execute(
        ApiKey.__table__.update()
        .where(ApiKey.expires_at.is_not(None))
        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    db.execute(Membership.__table__.delete().where(Membership.user_id == admin.user.id))
    db.commit()

    assert client.delete(f"{KEYS}/{revoked_id}", headers=owner.headers).status_code == 200
    for key in (revoked, expired, orphaned, "plk_made_up"):
        response = client.get("/api/v1/items", headers={"X-API-Key": key})

        assert response.status_code == 401, key
        assert error_of(response)["code"] == "invalid_api_key"


def test_key_creation_is_validated(client: TestClient, owner: Person):
    cases = [
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["root"]}, "scopes.0"),
        ({"name": "x", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"name": "x", "scopes": ["read"], "surprise": 1}, "surprise"),
    ]
    for body, field in cases:
        response = client.post(KEYS, json=body, headers=owner.headers)

        assert response.status_code == 422, body
        assert error_of(response)["field"] == field, body
