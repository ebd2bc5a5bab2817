"""A setting acts where it matters: `PLAUDIT_QANDA_ENABLED` on the workers alone turns Q&A on.

The workers make the provider calls, so they decide, and record the decision on each connection
as the capability's state; the scheduler and the API read only that. Here the API and the
scheduler (this process) run with Q&A off and a `plaudit worker` process with it on. The same
holds for the OAuth redirect URI, which the API chooses from `PLAUDIT_PUBLIC_URL` and the
worker must repeat when it exchanges the code.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.settings import get_settings
from models import Connection, Item, SyncRun
from scheduler.loop import tick
from tests.fixtures import consent
from tests.support import Process, this_runs_broker, wait_for


@pytest.mark.commits  # a worker process
def test_q_and_a_syncs_when_only_the_workers_have_it_on(db, sandbox, idle_api):
    api = idle_api
    assert get_settings().qanda_enabled is False  # the API's and the scheduler's settings
    # (and without the API's public URL: the consent request's redirect URI is stored with it)
    worker = Process(
        "worker",
        "--threads",
        "2",
        env={"PLAUDIT_QANDA_ENABLED": "true", "PLAUDIT_PUBLIC_URL": "http://127.0.0.1:9"},
    )
    try:
        # When an admin connects Google
        start = api.post("/api/v1/connections/google/authorize", json={}).json()
        callback = api.get(
            "/api/v1/connections/google/callback", params=consent(start["authorization_url"])
        )
        assert callback.status_code == 200, callback.text
        connection_id = callback.json()["connection"]["id"]

        # Then the worker syncs the questions too (2 locations × 3)
        def questions() -> int:
            """the questions are in the inbox"""
            db.expire_all()
            return db.scalar(select(func.count()).where(Item.kind == "question")) == 6

        wait_for(questions, timeout=45)
        shown = api.get(f"/api/v1/connections/{connection_id}").json()
        assert shown["capabilities"].get("google_qanda", {}).get("state", "available") == (
            "available"
        )

        # And "sync now" through the API asks for Q&A as well
        accepted = api.post(f"/api/v1/connections/{connection_id}/sync")
        assert accepted.status_code == 202, accepted.text
        assert accepted.json()["enqueued"] == ["google_reviews", "google_qanda"]

        def qanda_runs(count: int):
            def settled() -> list[SyncRun]:
                db.expire_all()
                found = list(
                    db.scalars(select(SyncRun).where(SyncRun.capability == "google_qanda"))
                )
                busy = db.scalar(select(func.count()).where(SyncRun.status == "running"))
                return found if len(found) >= count and not busy else []

            settled.__doc__ = f"Q&A synced {count} times, and nothing is running"
            return settled

        wait_for(qanda_runs(2), timeout=45)

        # And so does the scheduler when the connection is next due
        db.expire_all()
        due = db.get(Connection, connection_id).next_sync_at + timedelta(seconds=1)
        assert tick(due).syncs == 2
        assert all(run.status == "succeeded" for run in wait_for(qanda_runs(3), timeout=45))
    finally:
        output = worker.stop()
        this_runs_broker().flush_all()
    assert "Traceback" not in output, output
