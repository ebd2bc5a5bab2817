"""What PROVIDERS.md documents of Google that a sync must handle at the wire: a project without
Business Profile API access (a 429 whose quota is 0, §0 and §G.3), and a media item's label."""

from __future__ import annotations

from sqlalchemy import select

from models import CapabilityState, Connection, Item
from tests.fixtures import connect_google
from tests.service_calls import sync
from tests.support import delayed_messages, this_runs_broker
from tests.workers.test_sync import REVIEWS_PATH, admin, items, review_requests


def test_a_project_google_gave_no_quota_shows_missing_access_instead_of_waiting(db, sandbox):
    # Given a Google project whose Business Profile quota is 0: every review call is refused
    connection = connect_google(db)
    this_runs_broker().flush_all()
    admin(
        sandbox,
        "POST",
        "/faults",
        json={"path": REVIEWS_PATH, "status": 429, "quota_limit_value": "0", "times": -1},
    )

    # When it syncs
    run = sync(connection.id, "google_reviews")

    # Then the run ends at once, without waiting or asking again
    assert run.status == "failed" and run.error_class == "MissingPermission"
    assert run.rate_limit_waits == 0 and run.resumes_at is None
    assert delayed_messages() == []
    assert review_requests(sandbox) == 1
    # And the connection says why, in words an operator can act on
    db.expire_all()
    state = db.get(Connection, connection.id).capabilities["google_reviews"]
    assert state["state"] == CapabilityState.MISSING_PERMISSION
    assert "quota is 0" in state["message"] and "apply for Business Profile API" in state["message"]
    assert "mybusiness.googleapis.com" in state["message"]


def test_a_media_items_thumbnail_label_is_stored_redacted_beside_its_urls(db, sandbox):
    # Given a review whose media items carry labels (one with an address typed in it)
    connection = connect_google(db)
    sync(connection.id, "google_reviews")
    review = items(db)[0]
    media = [
        {"thumbnailUrl": "https://t/1", "thumbnailLabel": "Breakfast on the terrace"},
        {"videoUrl": "https://v/2", "thumbnailLabel": "mail zed@example.com"},
        {"thumbnailLabel": "a label and nothing to show"},
    ]
    admin(sandbox, "PATCH", f"/reviews/{review.external_id}", json={"reviewMediaItems": media})

    # When it is synced again
    assert sync(connection.id, "google_reviews").status == "succeeded"

    # Then each item keeps its label, personal data redacted; a label alone is no media item
    db.expire_all()
    stored = db.scalars(select(Item.media).where(Item.id == review.id)).one()
    assert stored == [
        {"thumbnail_url": "https://t/1", "thumbnail_label": "Breakfast on the terrace"},
        {"video_url": "https://v/2", "thumbnail_label": "mail [redacted:email]"},
    ]
