"""Members limited to some locations: they and their keys see only those locations' items,
replies, campaigns and figures; anything else is a 404, as another organisation's would be."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.crypto import blind_index
from models import (
    AuditEvent,
    Campaign,
    Connection,
    EmailMessage,
    Item,
    ItemNote,
    Location,
    Membership,
    Recipient,
    Reply,
    ReplyTemplate,
    Role,
    Scope,
)
from services.alerts import alert_new_items
from tests.api.conftest import Person, error_of, google_locations
from tests.api.routes import example_body, fill, permission_table, routes
from tests.api.test_invitations import _token
from tests.api.test_permissions import NOWHERE
from tests.service_calls import send_due_digests

MARKER = "walrus-of-the-south-location"
ITEMS = "/api/v1/items"


@dataclass
class World:
    owner: Person
    north: Location
    south: Location
    north_items: list[Item]
    south_item: Item
    unplaced: Item  # first-party feedback without a location
    north_reply: Reply
    south_reply: Reply
    south_note: ItemNote
    north_campaign: int
    south_campaign: int
    template: ReplyTemplate


@pytest.fixture
def world(db: Session, client: TestClient, owner: Person, make_item: Callable[..., Item]) -> World:
    """One organisation, two locations; everything of the south one is written with MARKER."""
    org = owner.organisation
    connection, (north, south) = google_locations(db, org.id, "north", MARKER)
    at = {"connection_id": connection.id}
    north_items = [
        make_item(org, **at, location_id=north.id, rating=1),
        make_item(org, **at, location_id=north.id, rating=4, reply_text="Thanks"),
    ]
    south_item = make_item(
        org, **at, location_id=south.id, rating=2, text=MARKER, author_name=MARKER
    )
    unplaced = make_item(org, source="plaudit", kind="feedback", rating=3, external_id="fb-1")
    north_reply = Reply(
        organisation_id=org.id,
        item_id=north_items[0].id,
        body="Sorry to hear it",
        idempotency_key="n",
        status="awaiting_approval",
    )
    south_reply = Reply(
        organisation_id=org.id,
        item_id=south_item.id,
        body=MARKER,
        idempotency_key="s",
        status="awaiting_approval",
    )
    south_note = ItemNote(organisation_id=org.id, item_id=south_item.id, body=MARKER)
    template = ReplyTemplate(organisation_id=org.id, name="thanks", body="Thank you")
    db.add_all([north_reply, south_reply, south_note, template])
    db.commit()
    campaigns = {}
    for name, location in (("north visitors", north), (MARKER, south)):
        created = client.post(
            "/api/v1/campaigns",
            json={"name": name, "location_id": location.id},
            headers=owner.headers,
        )
        assert created.status_code == 201, created.text
        campaigns[location.id] = created.json()["campaign"]["id"]
    # The north campaign also holds a recipient of the south location.
    uploaded = client.post(
        f"/api/v1/campaigns/{campaigns[north.id]}/recipients",
        json={
            "recipients": [
                {"name": "Ada", "email": "ada@example.com"},
                {"name": MARKER, "email": "south@example.com", "location_id": south.id},
            ]
        },
        headers=owner.headers,
    )
    assert uploaded.json()["accepted"] == 2, uploaded.text
    return World(
        owner=owner,
        north=north,
        south=south,
        north_items=north_items,
        south_item=south_item,
        unplaced=unplaced,
        north_reply=north_reply,
        south_reply=south_reply,
        south_note=south_note,
        north_campaign=campaigns[north.id],
        south_campaign=campaigns[south.id],
        template=template,
    )


def _membership_id(db: Session, person: Person) -> int:
    return db.scalar(
        select(Membership.id).where(
            Membership.user_id == person.user.id,
            Membership.organisation_id == person.organisation.id,
        )
    )


@pytest.fixture
def limit(
    client: TestClient, db: Session, world: World
) -> Callable[[Person, list[int] | None], dict]:
    """Set (or, with None, lift) a member's limit as the owner does: through the API."""

    def apply(person: Person, location_ids: list[int] | None) -> dict:
        response = client.patch(
            f"/api/v1/members/{_membership_id(db, person)}",
            json={"location_ids": location_ids},
            headers=world.owner.headers,
        )
        assert response.status_code == 200, response.text
        return response.json()

    return apply


@pytest.fixture
def north_manager(
    make_person: Callable[..., Person], world: World, limit: Callable[..., dict]
) -> Person:
    manager = make_person(Role.MANAGER, organisation=world.owner.organisation)
    limit(manager, [world.north.id])
    return manager


def _item_ids(client: TestClient, headers: dict[str, str], **params: object) -> set[int]:
    response = client.get(ITEMS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def _export_ids(client: TestClient, headers: dict[str, str]) -> set[int]:
    with client.stream("GET", f"{ITEMS}/export.csv", headers=headers) as response:
        assert response.status_code == 200
        text = "".join(response.iter_text())
    return {int(row["id"]) for row in csv.DictReader(io.StringIO(text))}


def test_a_limited_member_sees_only_their_locations_everywhere(
    client: TestClient, world: World, north_manager: Person
):
    headers = north_manager.headers
    north = {item.id for item in world.north_items}

    facets = client.get(f"{ITEMS}/facets", headers=headers).json()
    analytics = client.get("/api/v1/analytics", headers=headers).json()
    locations = client.get("/api/v1/locations", headers=headers).json()["locations"]
    replies = client.get("/api/v1/replies", headers=headers).json()["replies"]
    campaigns = client.get("/api/v1/campaigns", headers=headers).json()["campaigns"]
    recipients = client.get(
        f"/api/v1/campaigns/{world.north_campaign}/recipients", headers=headers
    ).json()["recipients"]
    me = client.get("/api/v1/me", headers=headers).json()

    assert _item_ids(client, headers) == north
    assert _item_ids(client, headers, location_id=world.south.id) == set()
    assert _export_ids(client, headers) == north
    assert (facets["total"], facets["rating"]) == (2, {"1": 1, "4": 1})
    assert (analytics["total"], analytics["replied"]) == (2, 1)
    assert analytics["rating_distribution"] == {"1": 1, "4": 1}
    assert [location["id"] for location in locations] == [world.north.id]
    assert [reply["id"] for reply in replies] == [world.north_reply.id]
    assert [(c["id"], c["total"]) for c in campaigns] == [(world.north_campaign, 1)]
    assert [r["name"] for r in recipients] == ["Ada"]
    assert me["location_ids"] == [world.north.id]
    # The owner, unlimited, still sees everything, the unplaced feedback included.
    everything = {*north, world.south_item.id, world.unplaced.id}
    assert _item_ids(client, world.owner.headers) == everything
    assert client.get(f"{ITEMS}/facets", headers=world.owner.headers).json()["total"] == 4


def test_another_locations_item_is_a_404_for_reading_and_replying(
    client: TestClient, db: Session, world: World, north_manager: Person
):
    headers = north_manager.headers
    south = f"{ITEMS}/{world.south_item.id}"
    own = f"{ITEMS}/{world.north_items[0].id}"

    answers = {
        "read": client.get(south, headers=headers),
        "update": client.patch(south, json={"status": "closed"}, headers=headers),
        "notes": client.get(f"{south}/notes", headers=headers),
        "add note": client.post(f"{south}/notes", json={"body": "x"}, headers=headers),
        "delete note": client.delete(f"{south}/notes/{world.south_note.id}", headers=headers),
        "thread": client.get(f"{south}/thread", headers=headers),
        "reply": client.post(f"{south}/reply", json={"text": "Hello"}, headers=headers),
        "edit reply": client.put(f"{south}/reply", json={"text": "Hello"}, headers=headers),
        "delete reply": client.delete(f"{south}/reply", headers=headers),
        "render": client.post(
            f"/api/v1/reply-templates/{world.template.id}/render",
            json={"item_id": world.south_item.id},
            headers=headers,
        ),
        "outbox row": client.get(f"/api/v1/replies/{world.south_reply.id}", headers=headers),
        "approve": client.post(f"/api/v1/replies/{world.south_reply.id}/approve", headers=headers),
        "campaign": client.get(f"/api/v1/campaigns/{world.south_campaign}", headers=headers),
    }

    assert {name: (r.status_code, error_of(r)["code"]) for name, r in answers.items()} == {
        name: (404, "not_found") for name in answers
    }
    assert all(MARKER not in r.text for r in answers.values())
    # Nothing was written for the south item, while the member's own item works as usual.
    assert db.scalar(select(func.count(Reply.id)).where(Reply.item_id == world.south_item.id)) == 1
    db.refresh(world.south_item)
    assert world.south_item.status == "open"
    assert client.get(own, headers=headers).status_code == 200
    assert client.post(f"{own}/reply", json={"text": "Hello"}, headers=headers).status_code == 202


def test_bulk_changes_and_campaigns_stay_inside_the_limit(
    client: TestClient,
    db: Session,
    world: World,
    north_manager: Person,
    make_person: Callable[..., Person],
    limit: Callable[..., dict],
):
    headers = north_manager.headers
    south_responder = make_person(Role.RESPONDER, organisation=world.owner.organisation)
    limit(south_responder, [world.south.id])

    bulk = client.post(
        f"{ITEMS}/bulk", json={"filter": {}, "changes": {"add_tags": ["seen"]}}, headers=headers
    )
    mismatched = client.post(
        f"{ITEMS}/bulk",
        json={"filter": {}, "changes": {"assignee_user_id": south_responder.user.id}},
        headers=world.owner.headers,
    )
    unplaced_campaign = client.post("/api/v1/campaigns", json={"name": "x"}, headers=headers)
    south_campaign = client.post(
        "/api/v1/campaigns", json={"name": "x", "location_id": world.south.id}, headers=headers
    )
    upload = client.post(
        f"/api/v1/campaigns/{world.north_campaign}/recipients",
        json={
            "recipients": [
                {"name": "Bo", "email": "bo@example.com"},
                {"name": "Cy", "email": "cy@example.com", "location_id": world.south.id},
            ]
        },
        headers=headers,
    )

    assert bulk.json() == {"updated": 2}
    tags = dict(db.execute(select(Item.id, Item.tags)).tuples().all())
    assert {i for i, t in tags.items() if t == ["seen"]} == {i.id for i in world.north_items}
    assert (mismatched.status_code, error_of(mismatched)["field"]) == (422, "assignee_user_id")
    assert (unplaced_campaign.status_code, error_of(unplaced_campaign)["field"]) == (
        422,
        "location_id",
    )
    assert (south_campaign.status_code, error_of(south_campaign)["field"]) == (422, "location_id")
    assert (upload.json()["accepted"], upload.json()["rejected"][0]["field"]) == (1, "location_id")
    assert (
        db.scalar(
            select(Recipient.id).where(Recipient.email_index == blind_index("cy@example.com"))
        )
        is None
    )


def test_an_api_key_is_limited_like_the_member_who_created_it(
    client: TestClient,
    world: World,
    make_person: Callable[..., Person],
    make_api_key: Callable[..., str],
    limit: Callable[..., dict],
):
    responder = make_person(Role.RESPONDER, organisation=world.owner.organisation)
    key = {"X-API-Key": make_api_key(responder, Scope.REPLY)}
    assert _item_ids(client, key) == {
        *(i.id for i in world.north_items),
        world.south_item.id,
        world.unplaced.id,
    }

    limit(responder, [world.north.id])

    south = f"{ITEMS}/{world.south_item.id}"
    assert _item_ids(client, key) == {i.id for i in world.north_items}
    assert client.get(south, headers=key).status_code == 404
    assert client.post(f"{south}/reply", json={"text": "Hi"}, headers=key).status_code == 404
    assert client.get("/api/v1/analytics", headers=key).json()["total"] == 2
    assert client.get("/api/v1/me", headers=key).json()["location_ids"] == [world.north.id]


def test_lifting_the_limit_restores_everything_and_both_are_audited(
    client: TestClient,
    db: Session,
    world: World,
    north_manager: Person,
    limit: Callable[..., dict],
):
    membership_id = _membership_id(db, north_manager)
    listed = client.get("/api/v1/members", headers=north_manager.headers).json()["members"]

    lifted = limit(north_manager, None)

    assert {m["id"]: m["location_ids"] for m in listed}[membership_id] == [world.north.id]
    assert (lifted["role"], lifted["location_ids"]) == ("manager", None)
    assert _item_ids(client, north_manager.headers) == {
        *(i.id for i in world.north_items),
        world.south_item.id,
        world.unplaced.id,
    }
    assert (
        client.get(f"{ITEMS}/{world.south_item.id}", headers=north_manager.headers).status_code
        == 200
    )
    events = db.execute(
        select(AuditEvent.details)
        .where(
            AuditEvent.action == "member.locations_changed",
            AuditEvent.target_id == str(membership_id),
        )
        .order_by(AuditEvent.id)
    ).scalars()
    assert [e["location_ids"] for e in events] == [[world.north.id], None]


def test_a_role_change_keeps_the_limit(
    client: TestClient, db: Session, world: World, north_manager: Person
):
    changed = client.patch(
        f"/api/v1/members/{_membership_id(db, north_manager)}",
        json={"role": "viewer"},
        headers=world.owner.headers,
    )

    assert (changed.json()["role"], changed.json()["location_ids"]) == ("viewer", [world.north.id])
    assert _item_ids(client, north_manager.headers) == {i.id for i in world.north_items}


def test_invalid_limits_are_a_422_naming_the_field(
    client: TestClient,
    db: Session,
    world: World,
    north_manager: Person,
    make_person: Callable[..., Person],
):
    elsewhere = make_person(Role.OWNER)
    their_connection = Connection(organisation_id=elsewhere.organisation.id, provider="google")
    db.add(their_connection)
    db.flush()
    theirs = Location(
        organisation_id=elsewhere.organisation.id,
        connection_id=their_connection.id,
        provider="google",
        external_id="theirs",
    )
    admin = make_person(Role.ADMIN, organisation=world.owner.organisation)
    db.add(theirs)
    db.commit()
    manager_url = f"/api/v1/members/{_membership_id(db, north_manager)}"
    admin_url = f"/api/v1/members/{_membership_id(db, admin)}"

    def patch(url: str, body: dict) -> tuple[int, str | None]:
        response = client.patch(url, json=body, headers=world.owner.headers)
        return response.status_code, error_of(response)["field"]

    assert patch(manager_url, {"location_ids": [theirs.id]}) == (422, "location_ids")
    assert patch(manager_url, {"location_ids": [world.north.id, 999_999]}) == (
        422,
        "location_ids",
    )
    assert patch(manager_url, {"location_ids": []}) == (422, "location_ids")
    assert patch(manager_url, {"location_ids": ["north"]}) == (422, "location_ids.0")
    assert patch(admin_url, {"location_ids": [world.north.id]}) == (422, "location_ids")
    assert patch(manager_url, {"role": "admin"}) == (422, "role")
    invited = client.post(
        "/api/v1/invitations",
        json={"email": "x@example.com", "role": "viewer", "location_ids": [theirs.id]},
        headers=world.owner.headers,
    )
    assert (invited.status_code, error_of(invited)["field"]) == (422, "location_ids")
    # Nothing changed: the manager is still limited to the north, the admin to nothing.
    limits = dict(db.execute(select(Membership.role, Membership.location_ids)).tuples().all())
    assert (limits["manager"], limits["admin"]) == ([world.north.id], None)


def test_an_invited_person_joins_limited_to_the_invited_locations(
    client: TestClient, db: Session, world: World
):
    invited = client.post(
        "/api/v1/invitations",
        json={"email": "grace@example.com", "role": "responder", "location_ids": [world.north.id]},
        headers=world.owner.headers,
    )
    accepted = client.post(
        "/api/v1/invitations/accept",
        json={"token": _token(db), "name": "Grace", "password": "grace's passphrase"},
    )

    assert invited.json()["location_ids"] == [world.north.id]
    headers = {"Authorization": f"Bearer {accepted.json()['access_token']}"}
    assert _item_ids(client, headers) == {i.id for i in world.north_items}
    assert client.get(f"{ITEMS}/{world.south_item.id}", headers=headers).status_code == 404


def test_every_route_keeps_a_limited_member_to_their_locations(
    client: TestClient, db: Session, world: World, north_manager: Person
):
    """Like the tenant-isolation walk, inside one organisation: every route, with the south
    location's ids where a route takes them, answers 404 (or 403 by role) and shows nothing of
    the south; a new route or path parameter is covered without changing this test."""
    south_ids = {
        "item_id": world.south_item.id,
        "reply_id": world.south_reply.id,
        "note_id": world.south_note.id,
        "campaign_id": world.south_campaign,
    }
    table = permission_table()
    spec = client.app.openapi()
    leaks: list[str] = []

    for method, path, operation in routes(client.app):
        rule = table[(method, path)]
        if rule.minimum is None:
            continue  # public and provider routes act for no member
        url = fill(path, NOWHERE | south_ids)
        body = example_body(spec, operation) if operation else None
        response = client.request(method, url, json=body, headers=north_manager.headers)
        expected = 404 if Role.MANAGER.at_least(rule.minimum) else 403
        if any(f"{{{name}}}" in path for name in south_ids) and response.status_code != expected:
            leaks.append(f"{method} {path}: {response.status_code}")
        if MARKER in response.text:
            leaks.append(f"{method} {path} showed the south location's data")

    assert leaks == []
    db.refresh(world.south_item)
    assert (world.south_item.status, world.south_item.tags) == ("open", [])
    assert db.scalar(select(func.count(ItemNote.id))) == 1
    assert db.scalar(select(func.count(Campaign.id))) == 2


def test_alerts_and_digests_cover_only_the_members_locations(
    client: TestClient, db: Session, world: World, north_manager: Person
):
    client.put(
        "/api/v1/alerts",
        json={"immediate_max_rating": 2, "daily_digest": True},
        headers=north_manager.headers,
    )
    low = [world.north_items[0].id, world.south_item.id]  # ratings 1 and 2

    queued = alert_new_items(db, organisation_id=world.owner.organisation.id, item_ids=low)
    db.commit()
    digests = send_due_digests(datetime.now(UTC) + timedelta(minutes=1))

    assert (queued, digests) == (1, 1)
    subjects = [m.context for m in db.scalars(select(EmailMessage).order_by(EmailMessage.id))]
    assert "A new 1-star review" in subjects[0] and "2 new items" in subjects[1]
