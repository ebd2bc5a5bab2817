"""Reply writes paced per Google location across workers (PROVIDERS.md §G.3), and a 429 for
one location's edits backing that location off alone, without a worker thread waiting."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

import workers.enqueue  # noqa: F401  (sends the jobs a commit recorded)
from models import Item, Location, Reply, ReplyStatus
from services.jobs import send_after_commit
from tests.fixtures import connect_google
from tests.service_calls import sync
from tests.support import set_env, wait_for
from tests.workers.test_sync import admin
from workers.runner import start_worker

WINDOW = 2.0  # seconds: the test's stand-in for Google's minute


def test_a_bulk_reply_on_one_location_is_paced_and_every_reply_is_sent_once(db, sandbox):
    # Given plaudit paced at 10 writes a window, and Google stricter than that (6 a window)
    # so that its edits limit is met too
    set_env(google_reply_writes_per_window=10, google_reply_write_window_seconds=WINDOW)
    admin(
        sandbox,
        "PATCH",
        "/google/settings",
        json={"reply_edit_limit": 6, "reply_edit_window_seconds": WINDOW},
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

    # When every one of them is replied to at once (and one item elsewhere)
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

    # Then each reached Google once, and the location's writes kept to its pace
    calls = admin(sandbox, "GET", "/replies")
    accepted = [c for c in calls if c["method"] == "PUT" and c["status"] == 200]
    assert sorted(c["comment"] for c in accepted) == sorted(r.body for r in replies)
    refused = [c for c in calls if c["status"] == 429]
    assert refused, "Google's limit was met: its refusals were backed off, not fatal"
    assert all(first.external_id in c["review"] for c in refused)  # one location only
    # Pacing, not Google's refusals, did most of the holding back.
    assert len(refused) < len(targets) / 2
    attempts = db.scalar(
        select(func.max(Reply.attempts)).where(Reply.id.in_([r.id for r in replies]))
    )
    assert attempts <= 4
