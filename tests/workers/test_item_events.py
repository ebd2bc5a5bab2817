"""Items that arrive or change announce themselves: `item.created` / `item.updated` webhook
deliveries and immediate alert e-mails, from a sync and from a provider push; never for a
location's first import of its history."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    AlertPreference,
    Connection,
    ConnectionStatus,
    EmailMessage,
    Item,
    Location,
    Membership,
    Organisation,
    Webhook,
    WebhookDelivery,
)
from tests.fixtures import connect_google
from tests.service_calls import apply_facebook, sync
from tests.workers.test_sync import admin, items

EVENTS = ["item.created", "item.updated"]


def subscribe(db: Session, organisation_id: int, events: list[str] = EVENTS) -> Webhook:
    webhook = Webhook(
        organisation_id=organisation_id,
        url="https://hooks.example.com/x",
        events=events,
        secret="k",
    )
    db.add(webhook)
    db.commit()
    return webhook


def deliveries(db: Session) -> list[tuple[str, dict]]:
    db.expire_all()
    rows = db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
    return [(row.event, row.payload) for row in rows]


def alert_emails(db: Session) -> int:
    db.expire_all()
    return len(db.scalars(select(EmailMessage).where(EmailMessage.template == "notice")).all())


def test_a_first_sync_is_quiet_and_later_syncs_announce_new_edited_and_deleted_items(
    db, sandbox, configure
):
    # Given an organisation with a webhook endpoint and an owner who wants 1- and 2-star alerts
    connection = connect_google(db)
    organisation_id = connection.organisation_id
    subscribe(db, organisation_id)
    owner = db.scalars(select(Membership).where(Membership.organisation_id == organisation_id))
    db.add(AlertPreference(organisation_id=organisation_id, user_id=owner.one().user_id,
                           immediate_max_rating=2))  # fmt: skip
    db.commit()

    # When the connection syncs its history for the first time
    sync(connection.id, "google_reviews")

    # Then 60 items arrived, and nobody is told about any of them
    assert len(items(db)) == 60
    assert deliveries(db) == [] and alert_emails(db) == 0

    # When a customer leaves a 1-star review, another edits theirs, and a third is deleted
    location = admin(sandbox, "GET", "/locations")["locations"][0]["name"]
    admin(sandbox, "POST", "/reviews", json={"location": location, "starRating": "ONE",
                                              "comment": "Cold coffee"})  # fmt: skip
    edited, gone = items(db)[0], items(db)[5]
    admin(sandbox, "PATCH", f"/reviews/{edited.external_id}", json={"comment": "Changed my mind"})
    admin(sandbox, "DELETE", f"/reviews/{gone.external_id}")
    with configure(full_sync_interval_seconds=0):  # a full pass, which notices deletions
        sync(connection.id, "google_reviews")

    # Then each change is one delivery, with ids and facts but not the customer's words
    new = db.scalars(select(Item).where(Item.text == "Cold coffee")).one()
    got = {(event, payload["item_id"]): payload for event, payload in deliveries(db)}
    assert set(got) == {
        ("item.created", new.id),
        ("item.updated", edited.id),
        ("item.updated", gone.id),
    }
    assert got["item.created", new.id] == {
        "item_id": new.id,
        "source": "google",
        "kind": "review",
        "location_id": new.location_id,
        "rating": 1,
        "deleted": False,
        "posted_at": new.posted_at.isoformat(),
    }
    assert got["item.updated", gone.id]["deleted"] is True
    assert "Cold coffee" not in str(got)

    # And the owner is alerted about the new 1-star review only
    assert alert_emails(db) == 1

    # When it syncs again with nothing new, nothing more is announced
    sync(connection.id, "google_reviews")
    assert len(deliveries(db)) == 3 and alert_emails(db) == 1


def test_an_endpoint_gets_only_the_events_it_subscribed_to(db, sandbox):
    connection = connect_google(db)
    subscribe(db, connection.organisation_id, ["item.updated"])
    sync(connection.id, "google_reviews")
    location = admin(sandbox, "GET", "/locations")["locations"][0]["name"]
    admin(sandbox, "POST", "/reviews", json={"location": location, "comment": "Lovely"})
    edited = items(db)[0]
    admin(sandbox, "PATCH", f"/reviews/{edited.external_id}", json={"comment": "Even better"})

    sync(connection.id, "google_reviews")

    assert [(event, p["item_id"]) for event, p in deliveries(db)] == [("item.updated", edited.id)]


def _facebook_page(db: Session) -> Location:
    organisation = Organisation(name="Café")
    db.add(organisation)
    db.flush()
    connection = Connection(organisation_id=organisation.id, provider="facebook",
                            status=ConnectionStatus.ACTIVE, access_token="t", scopes=[],
                            capabilities={})  # fmt: skip
    db.add(connection)
    db.flush()
    page = Location(organisation_id=organisation.id, connection_id=connection.id,
                    provider="facebook", external_id="1001", name="Café")  # fmt: skip
    db.add(page)
    db.commit()
    return page


def _comment(comment_id: str, message: str) -> dict:
    now = int(time.time())
    value = {"item": "comment", "verb": "add", "comment_id": comment_id, "post_id": "1001_1",
             "parent_id": "1001_1", "from": {"id": "4242", "name": "Zoë"}, "message": message,
             "created_time": now}  # fmt: skip
    changes = [{"field": "feed", "value": value}]
    return {"object": "page", "entry": [{"id": "1001", "time": now, "changes": changes}]}


def test_a_pushed_comment_is_announced_once_and_its_text_redacted_like_a_synced_one(db):
    # Given a connected Facebook page whose organisation listens for new items
    page = _facebook_page(db)
    subscribe(db, page.organisation_id)

    # When Meta pushes a new comment with a card number in it, and then pushes it again
    event = _comment("1001_1_77", "Refund to 4111 1111 1111 1111 please")
    assert apply_facebook(event) == 1
    apply_facebook(event)

    # Then it is in the inbox, redacted, and announced once
    stored = db.scalars(select(Item).where(Item.external_id == "1001_1_77")).one()
    assert stored.text == "Refund to [redacted:card] please"
    assert deliveries(db) == [
        (
            "item.created",
            {
                "item_id": stored.id,
                "source": "facebook",
                "kind": "comment",
                "location_id": page.id,
                "rating": None,
                "deleted": False,
                "posted_at": stored.posted_at.isoformat(),
            },
        )
    ]
