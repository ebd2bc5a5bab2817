"""A sync that has to wait is never dropped: neither a busy lock nor a lost broker message ends
it, and however often it waits it reads each record once (issue #11: after 8 retries a sync was
dead-lettered, leaving an organisation's records missing until the next scheduled pass)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from core.settings import get_settings
from models import Item, Location, SyncRun
from models.db import get_engine
from scheduler.loop import resend_lost_continuations
from tests.fixtures import connect_google
from tests.service_calls import sync
from tests.support import delayed_messages, this_runs_broker, wait_for
from tests.workers.test_sync import REVIEWS_PATH, admin, review_requests
from workers.runner import start_worker

# Workers commit on connections of their own.
pytestmark = pytest.mark.commits

CAPABILITY = "google_reviews"


@contextmanager
def another_run_holds_the_lock(connection_id: int) -> Iterator[None]:
    """What a long sync of the same capability in another worker holds while it runs."""
    key = {"key": f"sync:{connection_id}:{CAPABILITY}"}
    with get_engine().connect() as holder:
        assert holder.scalar(text("SELECT pg_try_advisory_lock(hashtext(:key))"), key)
        try:
            yield
        finally:
            holder.execute(text("SELECT pg_advisory_unlock(hashtext(:key))"), key)
            holder.commit()


def dead_letters() -> int:
    broker = this_runs_broker()
    return broker.client.zcard(f"{get_settings().broker_namespace}:default.XQ")


def runs_of(db, location_id: int | None) -> list[SyncRun]:
    db.expire_all()
    return list(
        db.scalars(select(SyncRun).where(SyncRun.location_id == location_id).order_by(SyncRun.id))
    )


def test_a_location_sync_waits_for_the_lock_past_the_retry_budget_then_reads_once(
    db, sandbox, configure
):
    # Given a synced Google connection, and three new reviews on one of its locations
    configure(sync_lock_wait_seconds=0.05)
    connection = connect_google(db)
    assert sync(connection.id, CAPABILITY).status == "succeeded"
    location = db.scalars(select(Location).order_by(Location.id)).first()
    new = {
        admin(sandbox, "POST", "/reviews", json={"location": location.external_id})["reviewId"]
        for _ in range(3)
    }
    admin(sandbox, "DELETE", "/requests")
    this_runs_broker().flush_all()
    actor = this_runs_broker().get_actor("sync.capability")
    budget = actor.options["max_retries"]
    worker = start_worker(threads=2)
    try:
        with another_run_holds_the_lock(connection.id):
            # When three pushes ask for a sync of that location while another run holds the lock
            for _ in range(3):
                actor.send(connection.id, CAPABILITY, location.id)

            # Then one run waits for it, and looks again more often than the actor has retries
            def waited_past_the_budget() -> bool:
                """the waiting run has found the lock held more times than max_retries"""
                runs = runs_of(db, location.id)
                return bool(runs) and (runs[0].continuation or {}).get("busy", 0) > budget

            wait_for(waited_past_the_budget, timeout=60)
            (waiting,) = runs_of(db, location.id)
            assert waiting.status == "waiting" and waiting.resumes_at is not None
            assert review_requests(sandbox) == 0

        # When the other run ends, the waiting one reads the location
        def finished() -> SyncRun | None:
            """the location's run has ended"""
            runs = runs_of(db, location.id)
            return runs[0] if runs and runs[0].status not in ("waiting", "running") else None

        run = wait_for(finished, timeout=30)
    finally:
        worker.stop()

    # Then it is the one run, succeeded, with every new review, each read and stored once
    assert run.id == waiting.id and run.status == "succeeded" and run.errors == []
    assert run.continuation is None and run.resumes_at is None
    assert len(runs_of(db, location.id)) == 1
    assert run.written == len(new)
    stored = db.scalars(select(Item.external_id).where(Item.external_id.in_(new))).all()
    assert sorted(stored) == sorted(new)
    assert review_requests(sandbox) == 1  # the first page holds them and the old cursor
    # And no message was given up on
    assert dead_letters() == 0


def test_a_paused_syncs_continuation_waits_out_a_held_lock_past_the_retry_budget(
    db, sandbox, configure
):
    # Given a first sync paused by a rate limit, whose continuation is due
    configure(sync_lock_wait_seconds=0.05)
    connection = connect_google(db)
    this_runs_broker().flush_all()
    admin(
        sandbox,
        "POST",
        "/faults",
        json={"path": REVIEWS_PATH, "status": 429, "retry_after": 120, "times": 1},
    )
    paused = sync(connection.id, CAPABILITY)
    (message,) = delayed_messages()
    this_runs_broker().flush_all()
    actor = this_runs_broker().get_actor("sync.capability")
    budget = actor.options["max_retries"]
    worker = start_worker(threads=2)
    try:
        with another_run_holds_the_lock(connection.id):
            # When the continuation comes while another run of the capability holds the lock
            actor.send_with_options(args=message["args"], kwargs=message["kwargs"])

            # Then the run keeps waiting, past as many looks as the actor has retries
            def waited_past_the_budget() -> bool:
                """the paused run has found the lock held more times than max_retries"""
                (run,) = runs_of(db, None)
                return (run.continuation or {}).get("busy", 0) > budget

            wait_for(waited_past_the_budget, timeout=60)

        # And once the lock is free, it carries on
        def finished() -> SyncRun | None:
            """the paused run has ended"""
            (run,) = runs_of(db, None)
            return run if run.status not in ("waiting", "running") else None

        run = wait_for(finished, timeout=30)
    finally:
        worker.stop()

    # Then the same run finished the sync, with every review read and stored once
    assert run.id == paused.id and run.status == "succeeded" and run.errors == []
    assert run.written == 60 and run.rate_limit_waits == 1
    assert len(db.scalars(select(Item.id)).all()) == 60
    assert dead_letters() == 0


def test_a_paused_sync_whose_message_the_broker_lost_is_sent_again_and_finishes(db, sandbox):
    # Given a first sync paused by a two-minute rate-limit window, its row keeping its message
    connection = connect_google(db)
    this_runs_broker().flush_all()
    admin(
        sandbox,
        "POST",
        "/faults",
        json={"path": REVIEWS_PATH, "status": 429, "retry_after": 120, "times": 1},
    )
    paused = sync(connection.id, CAPABILITY)
    assert paused.status == "waiting"
    (message,) = delayed_messages()
    assert paused.continuation == message["kwargs"]

    # When the broker loses the message (a restart without its data)
    this_runs_broker().flush_all()

    # Then the scheduler leaves the run alone until its continuation is a lease overdue
    lease = timedelta(seconds=get_settings().sync_lease_seconds)
    assert resend_lost_continuations(paused.resumes_at + lease - timedelta(seconds=5)) == 0
    # And then sends it again, once however many ticks see it
    overdue = paused.resumes_at + lease + timedelta(seconds=1)
    assert resend_lost_continuations(overdue) == 1
    assert resend_lost_continuations(overdue) == 0

    # When a worker takes it
    worker = start_worker(threads=1)
    try:

        def finished() -> SyncRun | None:
            """the paused run has ended"""
            (run,) = runs_of(db, None)
            return run if run.status != "waiting" and run.status != "running" else None

        run = wait_for(finished, timeout=30)
    finally:
        worker.stop()

    # Then the same run finished the sync, with every review once
    assert run.id == paused.id and run.status == "succeeded"
    assert run.written == 60 and run.rate_limit_waits == 1
    assert len(db.scalars(select(Item.id)).all()) == 60
    # And the lost copy, were it to turn up after all, does nothing
    before = review_requests(sandbox)
    assert sync(*message["args"], **message["kwargs"]) is None
    assert review_requests(sandbox) == before
    assert dead_letters() == 0


def test_an_older_copy_of_a_continuation_leaves_the_run_to_the_current_one(db, sandbox):
    # Given a run paused twice: its first continuation met the window again
    connection = connect_google(db)
    this_runs_broker().flush_all()
    admin(
        sandbox,
        "POST",
        "/faults",
        json={"path": REVIEWS_PATH, "status": 429, "retry_after": 120, "times": 2},
    )
    paused = sync(connection.id, CAPABILITY)
    (first,) = delayed_messages()
    this_runs_broker().flush_all()
    assert sync(*first["args"], **first["kwargs"]).status == "waiting"
    (second,) = delayed_messages()
    assert second["kwargs"]["turn"] == first["kwargs"]["turn"] + 1

    # When a copy of the first continuation arrives (the scheduler re-sent a late message)
    assert sync(*first["args"], **first["kwargs"]) is None

    # Then the run still waits for the current one, which finishes it
    (run,) = runs_of(db, None)
    assert run.id == paused.id and run.status == "waiting"
    assert run.continuation == second["kwargs"]
    done = sync(*second["args"], **second["kwargs"])
    assert done.id == paused.id and done.status == "succeeded" and done.written == 60
    this_runs_broker().flush_all()
