"""Every route of one organisation, tried with another organisation's identifiers: 404, and
nothing of theirs in any list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    ApiKey,
    Connection,
    Invitation,
    Item,
    ItemNote,
    Location,
    Membership,
    Reply,
    ReplyTemplate,
    Role,
    Scope,
    Webhook,
)
from tests.api.conftest import Person
from tests.api.routes import example_body, fill, permission_table, routes

MARKER = "zebra-of-the-other-organisation"
# Path parameters that are not another organisation's resource.
NOT_IDS = {"provider": "google", "token": "nothing", "name": "nothing"}


def _their_world(
    db: Session,
    client: TestClient,
    theirs: Person,
    make_person: Callable[..., Person],
    make_item: Callable[..., Item],
    make_api_key: Callable[..., str],
) -> dict[str, int]:
    """One of each resource in their organisation, named or written with MARKER."""
    org = theirs.organisation
    connection = Connection(organisation_id=org.id, provider="google", account_label=MARKER)
    db.add(connection)
    db.flush()
    location = Location(
        organisation_id=org.id,
        connection_id=connection.id,
        provider="google",
        external_id=f"accounts/1/locations/{MARKER}",  # the provider id is listed too
        name=MARKER,
    )
    db.add(location)
    db.commit()
    item = make_item(
        org, connection_id=connection.id, location_id=location.id, text=MARKER, reply_text=MARKER
    )
    reply = Reply(organisation_id=org.id, item_id=item.id, body=MARKER, idempotency_key=MARKER)
    note = ItemNote(organisation_id=org.id, item_id=item.id, body=MARKER)
    template = ReplyTemplate(organisation_id=org.id, name=MARKER, body=MARKER)
    webhook = Webhook(
        organisation_id=org.id,
        url=f"https://{MARKER}.example.com/",
        events=["item.created"],
        secret=MARKER,
        active=True,
        consecutive_failures=0,
    )
    invitation = Invitation(
        organisation_id=org.id,
        email=f"{MARKER}@example.com",
        email_index=MARKER,
        role="viewer",
        token_hash=MARKER,
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    db.add_all([reply, note, template, webhook, invitation])
    db.commit()
    colleague = make_person(Role.RESPONDER, organisation=org)
    make_api_key(theirs, Scope.READ)
    campaign = client.post("/api/v1/campaigns", json={"name": MARKER}, headers=theirs.headers)
    assert campaign.status_code == 201, campaign.text
    subject_request = client.post(
        "/api/v1/privacy/requests",
        json={"kind": "export", "reviewer_id": MARKER},
        headers=theirs.headers,
    )
    assert subject_request.status_code == 202, subject_request.text
    return {
        "request_id": subject_request.json()["id"],
        "connection_id": connection.id,
        "item_id": item.id,
        "reply_id": reply.id,
        "note_id": note.id,
        "template_id": template.id,
        "member_id": db.scalar(
            select(Membership.id).where(Membership.user_id == colleague.user.id)
        ),
        "api_key_id": db.scalar(select(ApiKey.id).where(ApiKey.organisation_id == org.id)),
        "webhook_id": webhook.id,
        "invitation_id": invitation.id,
        "campaign_id": campaign.json()["campaign"]["id"],
        "location_id": location.id,
        "user_id": colleague.user.id,
    }


def test_every_route_answers_404_for_another_organisations_ids(
    client: TestClient,
    db: Session,
    make_person: Callable[..., Person],
    make_item: Callable[..., Item],
    make_api_key: Callable[..., str],
):
    mine, theirs = make_person(Role.OWNER), make_person(Role.OWNER)
    ids = _their_world(db, client, theirs, make_person, make_item, make_api_key)
    table = permission_table()
    spec = client.app.openapi()
    leaks: list[str] = []

    for method, path, operation in routes(client.app):
        if table[(method, path)].minimum is None:
            continue  # public and provider routes act on no organisation's ids
        params = {name for name in ids if f"{{{name}}}" in path}
        url = fill(path, NOT_IDS | ids)
        body = example_body(spec, operation) if operation else None
        response = client.request(method, url, json=body, headers=mine.headers)
        if params and response.status_code != 404:
            leaks.append(f"{method} {path}: {response.status_code}")
        if MARKER in response.text:
            leaks.append(f"{method} {path} showed their data")

    assert leaks == []


def test_their_ids_inside_a_request_body_or_filter_are_refused_too(
    client: TestClient,
    db: Session,
    make_person: Callable[..., Person],
    make_item: Callable[..., Item],
    make_api_key: Callable[..., str],
):
    mine, theirs = make_person(Role.OWNER), make_person(Role.OWNER)
    ids = _their_world(db, client, theirs, make_person, make_item, make_api_key)
    template = ReplyTemplate(organisation_id=mine.organisation.id, name="t", body="Hi")
    db.add(template)
    db.commit()

    render = client.post(
        f"/api/v1/reply-templates/{template.id}/render",
        json={"item_id": ids["item_id"]},
        headers=mine.headers,
    )
    assign = client.post(
        "/api/v1/items/bulk",
        json={"filter": {}, "changes": {"assignee_user_id": ids["user_id"]}},
        headers=mine.headers,
    )
    by_location = client.get(
        "/api/v1/items", params={"location_id": ids["location_id"]}, headers=mine.headers
    )
    by_assignee = client.get(
        "/api/v1/items", params={"assignee_user_id": ids["user_id"]}, headers=mine.headers
    )

    assert render.status_code == 404
    assert assign.status_code == 422
    assert by_location.json()["items"] == [] and by_assignee.json()["items"] == []
