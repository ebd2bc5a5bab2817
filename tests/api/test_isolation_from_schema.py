"""Tenant isolation over every operation of /openapi.json, generated from the schema.

As the owner of organisation A (and with A's API key), each operation is called with
organisation B's real ids wherever the schema takes an id: in the path, in the query, and in
the request body, nested objects included. The answer must be 403, 404 or 422 — or a success
that shows nothing of B — and afterwards B's world is as it was and nothing of A points at B.
An operation with an id-like parameter this test does not know fails it: a new route must say
what its ids are before it ships.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from models import EmailMessage, Item, Membership, Role, Scope
from models.base import Base
from services.email import queue_email
from tests.api.conftest import Person
from tests.api.routes import example_body, permission_table
from tests.api.test_tenant_isolation import MARKER, _their_world
from tests.service_calls import deliver_email

# What each id-like name refers to, as a key of B's world below. This is the one list a new
# route may need to extend.
ID_KINDS = {
    "api_key_id": "api_key_id",
    "assignee_user_id": "user_id",
    "campaign_id": "campaign_id",
    "connection_id": "connection_id",
    "invitation_id": "invitation_id",
    "item_id": "item_id",
    "location_id": "location_id",
    "location_ids": "location_id",
    "member_id": "member_id",
    "name": "mailbox_name",  # /mailbox/{name}
    "note_id": "note_id",
    "organisation_id": "organisation_id",
    "reply_id": "reply_id",
    "request_id": "request_id",
    "reviewer_id": "reviewer_id",
    "template_id": "template_id",
    "webhook_id": "webhook_id",
}
# Path parameters that name no organisation's resource.
NOT_IDS = {"provider": "google"}
ALLOWED = {403, 404, 422}


def _id_like(name: str) -> bool:
    return name in ID_KINDS or name == "id" or name.endswith(("_id", "_ids"))


def _resolve(spec: dict[str, Any], schema: Any) -> Any:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _body_ids(spec: dict[str, Any], schema: Any, path: tuple[str, ...] = ()) -> Iterator[tuple]:
    """Paths of every id-like property of a request body schema, nested objects included."""
    schema = _resolve(spec, schema)
    if not isinstance(schema, dict) or len(path) > 4:
        return
    for variant in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from _body_ids(spec, variant, path)
    for name, sub in (schema.get("properties") or {}).items():
        if _id_like(name):
            yield (*path, name)
        yield from _body_ids(spec, sub, (*path, name))


def _place(body: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        body = body.setdefault(key, {}) if isinstance(body.get(key, {}), dict) else {}
    body[path[-1]] = value


def _org_counts(db: Session, organisation_id: int) -> dict[str, int]:
    counts = {}
    for table in Base.metadata.sorted_tables:
        if isinstance(table, Table) and "organisation_id" in table.c:
            counts[table.name] = db.scalar(
                select(func.count())
                .select_from(table)
                .where(table.c.organisation_id == organisation_id)
            )
    return counts


@pytest.fixture
def mailbox(tmp_path, configure) -> None:
    configure(email_backend="mailbox", mailbox_dir=tmp_path / "mailbox")


def test_every_operation_of_the_schema_keeps_to_its_organisation(
    client: TestClient,
    db: Session,
    make_person: Callable[..., Person],
    make_item: Callable[..., Item],
    make_api_key: Callable[..., str],
    mailbox: None,
):
    # Given organisation B with one of everything, a delivered e-mail included
    mine, theirs = make_person(Role.OWNER), make_person(Role.OWNER)
    ids: dict[str, Any] = _their_world(db, client, theirs, make_person, make_item, make_api_key)
    message = queue_email(
        db,
        organisation_id=theirs.organisation.id,
        to="customer@example.com",
        template="notice",
        context={"subject": MARKER, "body": MARKER, "action_url": None, "action_label": None},
    )
    db.commit()
    assert deliver_email(message.id) == "sent"
    ids["mailbox_name"] = db.get(EmailMessage, message.id).message_id.strip("<>").split("@")[0]
    ids["mailbox_name"] += ".eml"
    ids["organisation_id"] = theirs.organisation.id
    ids["reviewer_id"] = MARKER
    before = _org_counts(db, theirs.organisation.id)
    key = make_api_key(mine, *Scope)
    callers = {"owner": mine.headers, "api key": {"X-API-Key": key}}

    spec = client.get("/openapi.json").json()
    table = permission_table()
    unknown: list[str] = []
    leaks: list[str] = []
    walked = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            rule = table[(method.upper(), path)]  # a route without a row fails here
            if rule.minimum is None:
                continue  # public or provider-signed: acts on no organisation through a session
            url, query, in_path = path, {}, False
            for parameter in operation.get("parameters", []):
                name, where = parameter["name"], parameter["in"]
                if where == "path" and name in NOT_IDS:
                    url = url.replace(f"{{{name}}}", NOT_IDS[name])
                elif _id_like(name) and name in ID_KINDS:
                    value = ids[ID_KINDS[name]]
                    if where == "path":
                        url = url.replace(f"{{{name}}}", str(value))
                        in_path = True
                    elif where == "query":
                        query[name] = value
                elif _id_like(name) or where == "path":
                    unknown.append(f"{method.upper()} {path}: {where} parameter {name}")
            body = copy.deepcopy(example_body(spec, operation))
            content = (operation.get("requestBody") or {}).get("content", {})
            schema = (content.get("application/json") or {}).get("schema")
            for field in _body_ids(spec, schema) if schema else ():
                if field[-1] not in ID_KINDS:
                    unknown.append(f"{method.upper()} {path}: body field {'.'.join(field)}")
                    continue
                value = ids[ID_KINDS[field[-1]]]
                if isinstance(body, dict):
                    _place(body, field, [value] if field[-1].endswith("_ids") else value)
            for caller, headers in callers.items():
                if caller == "api key" and not rule.api_key:
                    continue
                walked += 1
                response = client.request(
                    method.upper(), url, params=query, json=body, headers=headers
                )
                status = response.status_code
                described = f"{caller}: {method.upper()} {path} -> {status}"
                if status >= 500:
                    leaks.append(described)
                elif in_path and status not in ALLOWED:
                    leaks.append(f"{described} (another organisation's id in the path)")
                if MARKER in response.text:
                    leaks.append(f"{described} showed their data")

    assert unknown == [], "new routes this test cannot exercise: add their id kinds"
    assert walked > 100
    assert leaks == []
    # Then B's world is untouched, and nothing of A refers to B
    db.expire_all()
    assert _org_counts(db, theirs.organisation.id) == before
    assert (
        db.scalar(
            select(func.count())
            .select_from(Item)
            .where(
                Item.organisation_id == mine.organisation.id,
                Item.assignee_user_id == ids["user_id"],
            )
        )
        == 0
    )
    limits = db.scalars(
        select(Membership.location_ids).where(Membership.organisation_id == mine.organisation.id)
    ).all()
    assert all(ids["location_id"] not in (limit or []) for limit in limits)
