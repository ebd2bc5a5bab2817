"""Reply tools: templates rendered safely, edits and deletions through the outbox, approval."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent, Connection, Item, Location, Reply, ReplyTemplate, Role
from tests.api.conftest import Person, error_of

TEMPLATES = "/api/v1/reply-templates"


def test_a_template_is_rendered_with_the_items_variables(
    client: TestClient, db: Session, owner: Person, make_item: Callable[..., Item]
):
    connection = Connection(organisation_id=owner.organisation.id, provider="google")
    db.add(connection)
    db.flush()
    location = Location(
        organisation_id=owner.organisation.id,
        connection_id=connection.id,
        provider="google",
        external_id="l",
        name="Soho",
    )
    db.add(location)
    db.commit()
    item = make_item(
        owner.organisation, author_name="Ada Lovelace", rating=4, location_id=location.id
    )
    body = "Thanks {{ reviewer_first_name }} for {{ rating }} stars at {{ location_name }}!"
    template = client.post(TEMPLATES, json={"name": "Thanks", "body": body}, headers=owner.headers)

    rendered = client.post(
        f"{TEMPLATES}/{template.json()['id']}/render",
        json={"item_id": item.id},
        headers=owner.headers,
    )

    assert template.status_code == 201
    assert rendered.json() == {"text": "Thanks Ada for 4 stars at Soho!"}


def test_unknown_variables_and_bad_syntax_are_refused_on_save(client: TestClient, owner: Person):
    for body in ("{{ password }}", "{% for %}", "{{ config.items() }}"):
        response = client.post(TEMPLATES, json={"name": "x", "body": body}, headers=owner.headers)

        assert response.status_code == 422, body
        assert (error_of(response)["code"], error_of(response)["field"]) == (
            "invalid_template",
            "body",
        )


EVIL = "{{ reviewer_name.__class__.__mro__ }}"


def test_the_sandbox_refuses_internals_on_save_and_at_render_time(
    client: TestClient, db: Session, owner: Person, make_item: Callable[..., Item]
):
    saved = client.post(TEMPLATES, json={"name": "evil", "body": EVIL}, headers=owner.headers)
    assert saved.status_code == 422
    # One stored before templates were rendered on save is still refused when used
    template = ReplyTemplate(organisation_id=owner.organisation.id, name="old", body=EVIL)
    db.add(template)
    db.commit()
    item = make_item(owner.organisation, author_name="Ada")

    rendered = client.post(
        f"{TEMPLATES}/{template.id}/render", json={"item_id": item.id}, headers=owner.headers
    )

    assert rendered.status_code == 422
    assert error_of(rendered)["code"] == "invalid_template"


@pytest.mark.parametrize(
    ("body", "limit"),
    [
        ("{% for i in range(100000000) %}x{% endfor %}", "ranges over 1,000 items"),
        ("{{ 'x' * 10000000 }}", "output over 20,000 characters"),
        ("{% for i in range(1000) %}{{ reviewer_name * 20 }}{% endfor %}", "output over"),
        ("{{ 9 ** 999999 }}", "exponents over 64"),
        (
            "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
            "{% endfor %}{% endfor %}{% endfor %}",
            "rendering over 0.5 s",
        ),
    ],
)
def test_templates_that_would_exhaust_the_api_are_refused_on_save_naming_the_limit(
    client: TestClient, owner: Person, body: str, limit: str
):
    response = client.post(TEMPLATES, json={"name": "big", "body": body}, headers=owner.headers)
    assert response.status_code == 422
    error = error_of(response)
    assert (error["code"], error["field"]) == ("template_too_large", "body")
    assert limit in error["message"]


def test_a_render_over_the_limit_with_real_values_is_a_422(
    client: TestClient, db: Session, owner: Person, make_item: Callable[..., Item]
):
    # Given a stored template that only explodes with a long enough name
    body = "{% for i in range(1000) %}{{ reviewer_name }}{% endfor %}"
    template = ReplyTemplate(organisation_id=owner.organisation.id, name="long", body=body)
    db.add(template)
    db.commit()
    item = make_item(owner.organisation, author_name="A" * 200)

    rendered = client.post(
        f"{TEMPLATES}/{template.id}/render", json={"item_id": item.id}, headers=owner.headers
    )

    assert rendered.status_code == 422
    assert error_of(rendered)["code"] == "template_too_large"


def test_template_names_are_unique_per_organisation(client: TestClient, owner: Person):
    body = {"name": "Thanks", "body": "Thank you!"}
    client.post(TEMPLATES, json=body, headers=owner.headers)

    again = client.post(TEMPLATES, json=body, headers=owner.headers)

    assert (again.status_code, error_of(again)["field"]) == (409, "name")


def test_edit_and_delete_of_a_posted_reply_go_through_the_outbox(
    client: TestClient, db: Session, owner: Person, make_item: Callable[..., Item], sent
):
    replied = make_item(owner.organisation, reply_text="Thanks!")
    never_replied = make_item(owner.organisation)

    edit = client.put(
        f"/api/v1/items/{replied.id}/reply", json={"text": "Thanks a lot!"}, headers=owner.headers
    )
    delete = client.delete(f"/api/v1/items/{replied.id}/reply", headers=owner.headers)
    nothing = client.delete(f"/api/v1/items/{never_replied.id}/reply", headers=owner.headers)

    assert (edit.status_code, delete.status_code) == (202, 202)
    assert (edit.json()["reply"]["action"], delete.json()["reply"]["action"]) == (
        "update",
        "delete",
    )
    assert (nothing.status_code, error_of(nothing)["code"]) == (409, "no_reply")
    rows = db.scalars(select(Reply).order_by(Reply.id)).all()
    assert [(r.action, r.status) for r in rows] == [("update", "pending"), ("delete", "pending")]
    assert sent == [("reply.send", (rows[0].id,)), ("reply.send", (rows[1].id,))]


def test_with_approval_a_responders_reply_waits_for_a_manager(
    client: TestClient,
    db: Session,
    owner: Person,
    make_person: Callable[..., Person],
    make_item: Callable[..., Item],
    sent,
):
    responder = make_person(Role.RESPONDER, organisation=owner.organisation)
    manager = make_person(Role.MANAGER, organisation=owner.organisation)
    item = make_item(owner.organisation)
    client.patch(
        "/api/v1/organisation", json={"reply_approval_required": True}, headers=owner.headers
    )

    # Given a responder's reply and a manager's
    waiting = client.post(
        f"/api/v1/items/{item.id}/reply", json={"text": "Hi"}, headers=responder.headers
    ).json()["reply"]
    direct = client.post(
        f"/api/v1/items/{item.id}/reply", json={"text": "Hello"}, headers=manager.headers
    ).json()["reply"]
    assert (waiting["status"], direct["status"]) == ("awaiting_approval", "pending")
    assert sent == [("reply.send", (direct["id"],))]
    queue = client.get(
        "/api/v1/replies", params={"status": "awaiting_approval"}, headers=manager.headers
    ).json()["replies"]
    assert [r["id"] for r in queue] == [waiting["id"]]

    # When the manager approves it
    refused = client.post(f"/api/v1/replies/{waiting['id']}/approve", headers=responder.headers)
    approved = client.post(f"/api/v1/replies/{waiting['id']}/approve", headers=manager.headers)
    twice = client.post(f"/api/v1/replies/{waiting['id']}/reject", headers=manager.headers)

    # Then it is sent, once
    assert refused.status_code == 403
    assert approved.json()["reply"]["status"] == "pending"
    assert approved.json()["reply"]["approved_by_user_id"] == manager.user.id
    assert twice.status_code == 409
    assert sent == [("reply.send", (direct["id"],)), ("reply.send", (waiting["id"],))]
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "reply.approved")) is not None


def test_a_rejected_reply_is_never_sent(
    client: TestClient,
    db: Session,
    owner: Person,
    make_person: Callable[..., Person],
    make_item: Callable[..., Item],
    sent,
):
    responder = make_person(Role.RESPONDER, organisation=owner.organisation)
    owner.organisation.reply_approval_required = True
    db.commit()
    item = make_item(owner.organisation)
    waiting = client.post(
        f"/api/v1/items/{item.id}/reply", json={"text": "Hi"}, headers=responder.headers
    ).json()["reply"]

    rejected = client.post(f"/api/v1/replies/{waiting['id']}/reject", headers=owner.headers)

    assert rejected.json()["reply"]["status"] == "rejected"
    assert sent == []


def test_provider_limits_name_the_field(
    client: TestClient, owner: Person, make_item: Callable[..., Item]
):
    google = make_item(owner.organisation, reply_text="x")
    facebook = make_item(owner.organisation, source="facebook", kind="comment")

    too_long_edit = client.put(
        f"/api/v1/items/{google.id}/reply", json={"text": "é" * 2049}, headers=owner.headers
    )
    facebook_fits = client.post(
        f"/api/v1/items/{facebook.id}/reply",
        json={"text": "é" * 8000, "mode": "add"},
        headers=owner.headers,
    )
    facebook_too_long = client.post(
        f"/api/v1/items/{facebook.id}/reply",
        json={"text": "é" * 8001, "mode": "add"},
        headers=owner.headers,
    )

    assert (too_long_edit.status_code, error_of(too_long_edit)["field"]) == (422, "text")
    assert "4096 bytes" in error_of(too_long_edit)["message"]
    assert facebook_fits.status_code == 202
    assert (facebook_too_long.status_code, error_of(facebook_too_long)["field"]) == (422, "text")
    assert "8000 characters" in error_of(facebook_too_long)["message"]
