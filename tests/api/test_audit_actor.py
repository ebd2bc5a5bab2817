"""Audit entries always say who acted: a change made with an API key names the key, beside the
person who created it, on every route a key can reach."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import ApiKey, AuditEvent, Item, Role, Scope
from services.accounts.tokens import secret_hash
from tests.api.conftest import Person
from tests.api.routes import example_body, fill, permission_table, routes
from tests.api.test_tenant_isolation import NOT_IDS, _their_world

# Routes whose documented body is free-form (CSV or JSON rows): a body that makes a change.
BODIES = {
    ("POST", "/api/v1/campaigns/{campaign_id}/recipients"): {
        "recipients": [{"name": "Ann", "email": "ann@example.com"}]
    },
}
# Changes that once recorded the key's creator alone, as if the person had made them.
ONCE_WITHOUT_THE_KEY = {
    "feedback_settings.updated",
    "suppression.added",
    "campaign.created",
    "campaign.recipients_added",
    "connection.authorization_started",
    "connection.sync_requested",
    "connection.disconnected",
}


def test_every_change_made_with_an_api_key_names_the_key(
    client: TestClient,
    db: Session,
    make_person: Callable[..., Person],
    make_item: Callable[..., Item],
    make_api_key: Callable[..., str],
):
    # Given an organisation with one of each resource, and an admin key of its owner
    owner = make_person(Role.OWNER)
    ids = _their_world(db, client, owner, make_person, make_item, make_api_key)
    key = make_api_key(owner, Scope.ADMIN)
    key_id = db.scalar(select(ApiKey.id).where(ApiKey.key_hash == secret_hash(key)))
    before = db.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
    table = permission_table()
    spec = client.app.openapi()
    writes = [
        (method, path, operation)
        for method, path, operation in routes(client.app)
        if method != "GET" and table[(method, path)].api_key
    ]
    assert len(writes) > 20  # the walk found the routes

    # When every write route a key can reach is called with it (deletions last)
    answers: dict[str, int] = {}
    for method, path, operation in sorted(writes, key=lambda w: w[0] == "DELETE"):
        body = BODIES.get((method, path)) or (example_body(spec, operation) if operation else None)
        response = client.request(
            method, fill(path, NOT_IDS | ids), json=body, headers={"X-API-Key": key}
        )
        answers[f"{method} {path}"] = response.status_code

    # Then each entry it left names the key, with its creator as the person
    db.expire_all()
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.id > before)))
    wrong = [
        (e.action, e.actor_user_id, e.details.get("api_key_id"))
        for e in events
        if (e.actor_user_id, e.details.get("api_key_id")) != (owner.user.id, key_id)
    ]
    assert wrong == [], answers
    # including the changes that once showed the person alone
    assert {e.action for e in events} >= ONCE_WITHOUT_THE_KEY, answers
    assert len({e.action for e in events}) > len(ONCE_WITHOUT_THE_KEY), answers


def test_a_persons_own_change_names_no_key(client: TestClient, db: Session, owner: Person):
    response = client.post("/api/v1/campaigns", json={"name": "Spring"}, headers=owner.headers)
    assert response.status_code == 201

    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.created")).one()
    assert event.actor_user_id == owner.user.id and "api_key_id" not in event.details
