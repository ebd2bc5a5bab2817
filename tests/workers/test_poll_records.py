"""What a sync of a Google location teaches the polling policy: the location's review rate
(from the history a first sync imports, then from what each poll finds) and a first due time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from core.settings import get_settings
from models import Item, Location
from tests.fixtures import connect_google
from tests.service_calls import sync
from tests.workers.test_sync import admin


def test_a_sync_records_what_each_location_found(db, sandbox):
    # Given a connection to a sandbox with 2 locations of 30 reviews each, synced once
    connection = connect_google(db)
    before = datetime.now(UTC)
    sync(connection.id, "google_reviews")

    # Then each location's rate starts from the reviews of its last 90 days, and its first
    # poll is due after the regular interval
    db.expire_all()
    locations = list(db.scalars(select(Location).order_by(Location.id)))
    for location in locations:
        recent = db.scalar(
            select(func.count(Item.id)).where(
                Item.location_id == location.id,
                Item.posted_at >= datetime.now(UTC) - timedelta(days=90),
            )
        )
        assert (location.reviews_seen, location.days_watched) == (recent, 90.0)
        assert location.polled_at >= before
        interval = timedelta(seconds=get_settings().sync_interval_seconds)
        assert location.next_poll_at == location.polled_at + interval

    # When a review is posted at the first location and that location is synced
    first = locations[0]
    seen, other = first.reviews_seen, (locations[1].reviews_seen, locations[1].polled_at)
    admin(sandbox, "POST", "/reviews", json={"location": first.external_id, "comment": "New"})
    sync(connection.id, "google_reviews", first.id)

    # Then its rate counts it; the other location, not synced, is as it was
    db.expire_all()
    assert seen + 0.99 < db.get(Location, first.id).reviews_seen <= seen + 1
    second = db.get(Location, locations[1].id)
    assert (second.reviews_seen, second.polled_at) == other
