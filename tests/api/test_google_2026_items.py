"""The item API shows Google's 2026 fields: media, the reply URL, the reply's moderation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from models import Item, Reply
from tests.api.conftest import Person, google_locations

ITEMS = "/api/v1/items"
DAY = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


def test_media_reply_url_and_a_rejected_reply_are_shown(
    client: TestClient, db: Session, owner: Person, make_item: Callable[..., Item]
) -> None:
    org = owner.organisation
    connection, (north,) = google_locations(db, org.id, "north")
    item = make_item(
        org,
        connection_id=connection.id,
        location_id=north.id,
        posted_at=DAY,
        reply_text="Call me on my mobile",
        reply_updated_at=DAY,
        reply_state="rejected",
        reply_policy_violation="CONTAINS_CONTACT_INFO",
        reply_url="https://business.google.com/reviews/reply?review=r1",
        media=[
            {"thumbnail_url": "https://t/1", "video_url": "https://v/1"},
            {"thumbnail_url": "x", "thumbnail_label": "Breakfast"},
        ],
    )
    plain = make_item(org, connection_id=connection.id, location_id=north.id, posted_at=DAY)
    reply = Reply(
        organisation_id=org.id,
        item_id=item.id,
        body="Call me on my mobile",
        status="failed",
        idempotency_key="k1",
        moderation_state="rejected",
        policy_violation="CONTAINS_CONTACT_INFO",
    )
    db.add(reply)
    db.commit()

    detail = client.get(f"{ITEMS}/{item.id}", headers=owner.headers).json()
    assert detail["media"] == [
        {"thumbnail_url": "https://t/1", "video_url": "https://v/1", "thumbnail_label": None},
        {"thumbnail_url": "x", "video_url": None, "thumbnail_label": "Breakfast"},
    ]
    assert detail["reply_url"] == "https://business.google.com/reviews/reply?review=r1"
    assert detail["reply"]["state"] == "rejected"
    assert detail["reply"]["policy_violation"] == "CONTAINS_CONTACT_INFO"
    [ours] = detail["replies"]
    assert (ours["status"], ours["moderation_state"], ours["policy_violation"]) == (
        "failed",
        "rejected",
        "CONTAINS_CONTACT_INFO",
    )
    listed = {i["id"]: i for i in client.get(ITEMS, headers=owner.headers).json()["items"]}
    assert listed[item.id]["reply"]["state"] == "rejected"
    assert listed[plain.id]["media"] == [] and listed[plain.id]["reply_url"] is None
