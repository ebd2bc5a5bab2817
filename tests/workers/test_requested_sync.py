"""One requested sync is one run, however long its message waits for a busy worker.

The message of "sync now" (and of the first sync after connecting) waits in the broker while
the scheduler ticks; the scheduler must not enqueue the same sync again, and a second message
for the same request, should one be sent, must not sync a second time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from models import Connection, SyncRun
from scheduler.loop import tick
from tests.fixtures import consent
from tests.service_calls import finish
from tests.support import this_runs_broker
from tests.workers.test_sync import REVIEWS_PATH, admin
from workers.runner import start_worker

# Workers in threads of their own commit on their own connections.
pytestmark = pytest.mark.commits


def runs(db) -> list[SyncRun]:
    db.expire_all()
    return list(db.scalars(select(SyncRun).order_by(SyncRun.id)))


def let_the_workers_catch_up() -> None:
    """A worker starts, does everything in the queue, and stops."""
    worker = start_worker(threads=1)  # one at a time: duplicates cannot hide behind the lock
    try:
        this_runs_broker().join("default", timeout=30_000)
        worker.join()
    finally:
        worker.stop()


def connect(api: httpx.Client) -> int:
    """Consent and callback; then the finishing job, as a worker would run it when it can."""
    start = api.post("/api/v1/connections/google/authorize", json={}).json()
    callback = api.get(
        "/api/v1/connections/google/callback", params=consent(start["authorization_url"])
    )
    assert callback.status_code == 200, callback.text
    assert finish(start["state"]) == "active"
    return callback.json()["connection"]["id"]


def test_the_first_sync_and_sync_now_run_once_while_the_workers_are_busy(db, sandbox, idle_api):
    # Given a connection just made: its first sync is queued behind busy workers
    api = idle_api
    connection_id = connect(api)
    admin(sandbox, "DELETE", "/requests")

    # When the scheduler ticks before any worker is free, and again after the sync
    assert tick().syncs == 0
    let_the_workers_catch_up()
    assert tick().syncs == 0

    # Then the first sync ran once: one run, one pass over the 2 locations at Google
    first = runs(db)
    assert [(r.capability, r.status) for r in first] == [("google_reviews", "succeeded")]
    assert admin(sandbox, "GET", "/requests", params={"path": REVIEWS_PATH})["total"] == 2

    # When a manager asks for a sync now, and the scheduler ticks while it waits
    admin(sandbox, "DELETE", "/requests")
    accepted = api.post(f"/api/v1/connections/{connection_id}/sync")
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["enqueued"] == ["google_reviews"]  # Q&A: the worker recorded it off
    assert tick().syncs == 0
    assert tick().syncs == 0
    let_the_workers_catch_up()

    # Then that is one more run and one more pass
    assert len(runs(db)) == 2 and runs(db)[-1].status == "succeeded"
    assert admin(sandbox, "GET", "/requests", params={"path": REVIEWS_PATH})["total"] == 2


def test_a_request_that_waits_longer_than_the_lease_still_runs_once(db, sandbox, idle_api):
    # Given a sync asked for through the API, then workers busy for longer than the lease
    api = idle_api
    connection_id = connect(api)
    this_runs_broker().flush_all()  # (the first sync is not what this test is about)
    admin(sandbox, "DELETE", "/requests")
    assert api.post(f"/api/v1/connections/{connection_id}/sync").status_code == 202

    # When the lease runs out and the scheduler, thinking the message lost, enqueues it again
    claimed = db.get(Connection, connection_id).next_sync_at
    assert claimed > datetime.now(UTC)
    assert tick(claimed + timedelta(seconds=1)).syncs == 1
    let_the_workers_catch_up()

    # Then the two messages of the one request made one run and one pass
    assert [r.status for r in runs(db)] == ["succeeded"]
    assert admin(sandbox, "GET", "/requests", params={"path": REVIEWS_PATH})["total"] == 2
