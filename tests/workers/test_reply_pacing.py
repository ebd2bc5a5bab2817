"""Reply writes paced per Google location across workers (PROVIDERS.md §G.3), and a 429 for
one location's edits backing that location off alone, without a worker thread waiting."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from sqlalchemy import func, select

import workers.enqueue  # noqa: F401  (sends the jobs a commit recorded)
from models import Item, Location, Reply, ReplyStatus
from services.jobs import send_after_commit
from tests.fixtures import connect_google
from tests.service_calls import sync
from tests.support import wait_for
from tests.workers.test_sync import admin
from workers.runner import start_worker

# Seconds: the tests' stand-ins for Google's minute. Plaudit's pace admits a write a slice
# (a sixth of the window) before Google's sliding window would, no more; a write's trip to
# Google takes longer on a busy machine, so the test that Google never refuses has a window
# whose slices outlast that. The other test needs refusals, and gets them in a shorter one.
PACED_WINDOW = 6.0
WINDOW = 2.0


def bulk_reply(
    db, sandbox, configure, *, google_limit: int, window: float = WINDOW
) -> tuple[list[Reply], Location, list[dict]]:
    """Every unanswered review of one location replied to at once (and one elsewhere), with
    plaudit paced at 10 writes a window and Google allowing ``google_limit``; returns the
    replies, the location and Google's log of reply calls once all are sent."""
    configure(google_reply_writes_per_window=10, google_reply_write_window_seconds=window)
    admin(
        sandbox,
        "PATCH",
        "/google/settings",
        json={"reply_edit_limit": google_limit, "reply_edit_window_seconds": window},
    )
    connection = connect_google(db)
    run = sync(connection.id, "google_reviews")
    assert run is not None and run.status == "succeeded", run and run.errors
    first, second = db.scalars(select(Location).order_by(Location.id)).all()[:2]
    targets = db.scalars(
        select(Item).where(Item.location_id == first.id, Item.reply_text.is_(None))
    ).all()
    other = db.scalars(
        select(Item).where(Item.location_id == second.id, Item.reply_text.is_(None))
    ).first()
    assert len(targets) >= 20
    replies = [
        Reply(
            organisation_id=item.organisation_id,
            item_id=item.id,
            body=f"Thank you, number {n}!",
            idempotency_key=uuid.uuid4().hex,
        )
        for n, item in enumerate([*targets, other])
    ]
    db.add_all(replies)
    db.flush()
    for reply in replies:
        send_after_commit(db, "reply.send", reply.id)
    db.commit()
    worker = start_worker(threads=4)
    try:

        def all_sent() -> bool:
            db.expire_all()
            statuses = db.scalars(
                select(Reply.status).where(Reply.id.in_([r.id for r in replies]))
            ).all()
            assert ReplyStatus.FAILED not in statuses
            return all(s == ReplyStatus.SENT for s in statuses)

        wait_for(all_sent, timeout=90)
    finally:
        worker.stop()
    calls = admin(sandbox, "GET", "/replies")
    accepted = [c for c in calls if c["method"] == "PUT" and c["status"] == 200]
    assert sorted(c["comment"] for c in accepted) == sorted(r.body for r in replies)  # once each
    return replies, first, calls


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


@pytest.mark.commits  # a worker's threads send the replies
def test_a_bulk_reply_on_one_location_keeps_to_the_pace_and_is_sent_once(db, sandbox, configure):
    _, location, calls = bulk_reply(db, sandbox, configure, google_limit=10, window=PACED_WINDOW)

    # Paced evenly, Google's limit (a sliding window of the same size) was never met.
    assert [c for c in calls if c["status"] == 429] == []
    times = sorted(seconds(c["at"]) for c in calls if location.external_id in c["review"])
    assert times[-1] - times[0] > PACED_WINDOW  # more than one window's worth: held back
    for i, at in enumerate(times):
        assert sum(1 for t in times[i:] if t < at + PACED_WINDOW) <= 10


@pytest.mark.commits  # a worker's threads send the replies
def test_googles_edits_limit_backs_off_that_location_alone_and_loses_nothing(
    db, sandbox, configure
):
    replies, location, calls = bulk_reply(db, sandbox, configure, google_limit=6)

    refused = [c for c in calls if c["status"] == 429]
    assert refused, "Google's limit was met: its refusals were backed off, not fatal"
    assert all(location.external_id in c["review"] for c in refused)  # that location only
    attempts = db.scalar(
        select(func.max(Reply.attempts)).where(Reply.id.in_([r.id for r in replies]))
    )
    assert attempts <= 4  # waits for the pace are not attempts
