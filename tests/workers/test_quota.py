"""Google's per-project quota holds across worker processes: two `plaudit worker` processes
syncing many locations never send more requests in a minute than the configured quota."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter

import dramatiq
import httpx
import pytest
from sqlalchemy import func, select

from connectors.sandbox.server import SandboxServer, base_urls
from connectors.sandbox.state import SandboxState
from core.settings import get_settings
from models import Item, Location, SyncRun
from tests.fixtures import connect_google, google_twin
from tests.service_calls import sync
from tests.support import Process, wait_for
from workers.broker import make_broker

# Worker processes commit on their own connections.
pytestmark = pytest.mark.commits

QUOTA = 10
GOOGLE_HOSTS = ("/mybusiness/", "/accountmanagement/", "/businessinformation/")


def per_minute(server: SandboxServer) -> Counter[int]:
    recent = httpx.get(f"{server.url}/_admin/requests/recent", params={"limit": 10_000}).json()
    return Counter(
        int(r["at"] // 60) for r in recent["requests"] if r["path"].startswith(GOOGLE_HOSTS)
    )


def test_two_workers_share_the_quota_and_throttled_syncs_wait_in_the_broker(db, configure):
    # Given 3 connections that each see 15 locations (17 requests a first sync: 51 in all)
    state = SandboxState.seeded(seed=3, locations=15, reviews_per_location=3)
    with SandboxServer(state) as server:
        configure(**base_urls(server.url))
        first = connect_google(db)
        connections = [first]
        for n in range(2):
            twin = google_twin(db, first, organisation_name=f"Shop {n}")
            connections.append(twin)
        db.commit()

        # And two worker processes, on a broker namespace (and so a quota count) of their own
        namespace = f"quota-{uuid.uuid4().hex[:8]}"
        env = {
            "PLAUDIT_BROKER_NAMESPACE": namespace,
            "PLAUDIT_GOOGLE_REQUESTS_PER_MINUTE": str(QUOTA),
        }
        broker = make_broker(get_settings().broker_url, namespace=namespace)
        workers = [Process("worker", "--threads", "2", env=env) for _ in range(2)]
        try:
            # When every connection is asked to sync
            for connection in connections:
                broker.enqueue(
                    dramatiq.Message(
                        queue_name="default",
                        actor_name="sync.capability",
                        args=(connection.id, "google_reviews"),
                        kwargs={},
                        options={},
                    )
                )

            # Then every connection's sync runs until the quota stops it: 51 requests cannot fit
            # a window of 10. (When the quota runs out in a window's last seconds the limiter
            # waits for the next window in place, so this can take a window change.)
            def settled() -> tuple[list[SyncRun], list[dict]] | None:
                """every connection has run, none is running, and those the quota stopped wait
                in the broker's delay queue"""
                db.expire_all()
                runs = list(db.scalars(select(SyncRun)))
                throttled = [r for r in runs if r.status == "waiting" and r.rate_limit_waits]
                ran = {r.connection_id for r in runs}
                busy = [r for r in runs if r.status == "running"]
                delayed = [
                    json.loads(m) for m in broker.client.hvals(f"{namespace}:default.DQ.msgs")
                ]
                waiting_in_broker = {m["kwargs"].get("run_id") for m in delayed}
                done = (
                    throttled
                    and len(ran) == len(connections)
                    and not busy
                    and {r.id for r in throttled} <= waiting_in_broker
                )
                return (runs, delayed) if done else None

            runs, delayed = wait_for(settled, timeout=75)
            assert len(runs) == len(connections)  # a paused sync is still one run

            # And no minute ever saw more than the quota
            assert sum(per_minute(server).values()) >= QUOTA
            assert max(per_minute(server).values()) <= QUOTA

            # And the throttled syncs wait in the broker until they resume, not spinning in place
            resumes = {r.id: r.resumes_at.timestamp() * 1000 for r in runs if r.status == "waiting"}
            etas = {m["kwargs"].get("run_id"): m["options"]["eta"] for m in delayed}
            for run_id, resumes_at in resumes.items():
                assert abs(etas[run_id] - resumes_at) < 1_000
        finally:
            for worker in workers:
                worker.stop()
            broker.flush_all()


def test_a_sync_stopped_by_the_quota_continues_later_from_the_location_it_stopped_at(
    db, sandbox, configure
):
    # Given a quota of 3 a minute: listing accounts and locations, then one location's reviews
    connection = connect_google(db)
    configure(google_requests_per_minute=3)
    # Far from a window's end, where the limiter waits in place instead.
    wait_for(lambda: time.time() % 60 <= 50, timeout=15, interval=0.2)
    broker = make_broker(get_settings().broker_url, namespace=get_settings().broker_namespace)
    broker.flush_all()
    # When it syncs
    run = sync(connection.id, "google_reviews")

    # Then the first location is done, and a delayed message continues from the second
    first, second = db.scalars(select(Location).order_by(Location.id)).all()
    assert run.status == "waiting" and run.rate_limit_waits == 1 and run.errors == []
    assert {item.location_id for item in db.scalars(select(Item))} == {first.id}
    delayed = [
        json.loads(m)
        for m in broker.client.hvals(f"{get_settings().broker_namespace}:default.DQ.msgs")
    ]
    assert [(m["actor_name"], m["args"], m["kwargs"]) for m in delayed] == [
        (
            "sync.capability",
            [connection.id, "google_reviews", None],
            {"start_at": second.id, "run_id": run.id, "stalls": 0, "turn": 1},
        )
    ]
    assert delayed[0]["options"]["eta"] > time.time() * 1000 + 5_000
    broker.flush_all()


def test_a_pass_stopped_by_the_quota_within_a_location_keeps_the_pages_it_read(db, configure):
    # Given a location of three pages (120 reviews) and a quota of 4 a minute: listing accounts
    # and locations, then two of its pages
    state = SandboxState.seeded(seed=5, locations=1, reviews_per_location=120)
    with SandboxServer(state) as server:
        configure(**base_urls(server.url))
        connection = connect_google(db)
        configure(google_requests_per_minute=4)
        # Far from a window's end, where the limiter waits in place instead.
        wait_for(lambda: time.time() % 60 <= 50, timeout=15, interval=0.2)
        try:
            # When it syncs
            run = sync(connection.id, "google_reviews")
        finally:
            make_broker(
                get_settings().broker_url, namespace=get_settings().broker_namespace
            ).flush_all()

    # Then the run waits for the quota, and the two pages it read are stored, not lost with
    # the batch they were gathered in
    assert run.status == "waiting" and run.rate_limit_waits == 1
    assert db.scalar(select(func.count(Item.id))) == 100
