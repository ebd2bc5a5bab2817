"""Every route against every role, an API key and no credentials, as the README's table says."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from models import Role, Scope
from tests.api.conftest import Person
from tests.api.routes import fill, permission_table, routes

# Ids that exist nowhere: a role that may use a route gets past the role check to a 404 (or a
# 422 for a missing body), never to a change.
NOWHERE = {"provider": "google", "token": "nothing", "name": "nothing"} | {
    name: 999_999_999
    for name in (
        "connection_id",
        "item_id",
        "note_id",
        "reply_id",
        "template_id",
        "member_id",
        "api_key_id",
        "webhook_id",
        "campaign_id",
        "invitation_id",
        "request_id",
    )
}


def test_every_route_is_in_the_permission_table(client: TestClient):
    table = permission_table()
    present = {(method, path) for method, path, _ in routes(client.app)}

    assert sorted(present - table.keys()) == [], "add these routes to the README's table"
    assert sorted(table.keys() - present) == [], "these rows name routes that do not exist"


def test_every_route_lets_in_exactly_the_roles_of_the_table(
    client: TestClient,
    make_person: Callable[..., Person],
    make_api_key: Callable[..., str],
):
    owner = make_person(Role.OWNER)
    people = {role: make_person(role, organisation=owner.organisation) for role in Role}
    admin_key = {"X-API-Key": make_api_key(owner, Scope.ADMIN)}
    table = permission_table()
    wrong: list[str] = []

    for method, path, _ in routes(client.app):
        rule = table[(method, path)]
        url = fill(path, NOWHERE)
        anonymous = client.request(method, url)
        if rule.signed:
            continue  # the provider's own credentials, tested with the route
        if rule.minimum is None:
            if anonymous.status_code in (401, 403):
                wrong.append(f"{method} {path} is public but refused anonymous: {anonymous}")
            continue
        if anonymous.status_code != 401:
            wrong.append(f"{method} {path} without credentials: {anonymous.status_code}")
        for role, person in people.items():
            status = client.request(method, url, headers=person.headers).status_code
            allowed = role.at_least(rule.minimum)
            if allowed == (status in (401, 403)):
                wrong.append(f"{method} {path} as {role}: {status}")
        keyed = client.request(method, url, headers=admin_key)
        key_allowed = rule.api_key and Role.ADMIN.at_least(rule.minimum)
        if key_allowed == (keyed.status_code in (401, 403)):
            wrong.append(f"{method} {path} with an admin key: {keyed.status_code}")

    assert wrong == []


def test_a_key_acts_with_its_scope_and_never_above_its_creator(
    client: TestClient,
    make_person: Callable[..., Person],
    make_api_key: Callable[..., str],
):
    owner = make_person(Role.OWNER)
    manager = make_person(Role.MANAGER, organisation=owner.organisation)
    read = {"X-API-Key": make_api_key(owner, Scope.READ)}
    reply = {"X-API-Key": make_api_key(owner, Scope.REPLY)}

    assert client.get("/api/v1/items", headers=read).status_code == 200
    note = {"body": "hi"}
    assert client.post("/api/v1/items/999999/notes", json=note, headers=read).status_code == 403
    assert client.post("/api/v1/items/999999/notes", json=note, headers=reply).status_code == 404
    # A manager cannot mint an admin key, so the cap is tested through a demotion instead.
    admin_by_manager = client.post(
        "/api/v1/api-keys",
        json={"name": "x", "scopes": ["admin"]},
        headers=manager.headers,
    )
    assert admin_by_manager.status_code == 403
