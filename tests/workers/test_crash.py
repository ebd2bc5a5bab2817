"""Nothing is lost when a worker dies mid-send or the broker restarts: PostgreSQL is the truth.

These run `plaudit worker` as a real child process on a real Redis broker and kill it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import func, select

from models import Checkpoint, Connection, Item, Reply, ReplyStatus, SyncRun
from scheduler.loop import tick
from services.sync.location_pass import BATCH_ROWS
from tests.fixtures import connect_google
from tests.service_calls import sync
from tests.support import PrivateRedis, Process, wait_for
from tests.workers.test_reply import REPLY_PATH, pending_reply, posted
from tests.workers.test_sync import admin, review_requests
from workers.broker import broker
from workers.outbox import send_reply
from workers.sync import sync_capability

# Worker and scheduler processes commit on their own connections.
pytestmark = pytest.mark.commits


def status_of(db, reply_id: int) -> str:
    db.expire_all()
    return db.get(Reply, reply_id).status


def test_a_worker_killed_after_google_accepted_the_reply_does_not_cause_a_second_post(
    db, sandbox, configure
):
    # Given a reply whose PUT Google records but answers only after a long pause
    broker.flush_all()  # messages other tests left for nobody
    reply = pending_reply(db)
    admin(
        sandbox,
        "POST",
        "/faults",
        json={"path": REPLY_PATH, "method": "PUT", "after_handling": True, "delay": 6},
    )
    worker = Process("worker", "--threads", "1")
    try:
        send_reply.send(reply.id)
        wait_for(lambda: len(posted(sandbox)) == 1, timeout=20)

        # When the worker dies before it could record the answer
        worker.kill()
        assert status_of(db, reply.id) == ReplyStatus.SENDING

        # And the reconciler finds the stuck row and a new worker takes it
        worker = Process("worker", "--threads", "1")
        configure(reply_stuck_seconds=0)
        assert tick(datetime.now(UTC) + timedelta(seconds=1)).replies == 1
        wait_for(lambda: status_of(db, reply.id) == ReplyStatus.SENT, timeout=20)
    finally:
        worker.stop()

    # Then Google received the reply exactly once
    assert len(posted(sandbox)) == 1
    assert db.get(Reply, reply.id).attempts == 2


def test_work_survives_a_broker_restart(db, sandbox):
    # Given a worker on a broker of our own, and a reply and a sync that are due
    broker = PrivateRedis()
    broker.start()
    env = {"PLAUDIT_BROKER_URL": broker.url, "PLAUDIT_REPLY_STUCK_SECONDS": "0"}
    reply = pending_reply(db)
    connection_id = db.scalars(select(Connection.id)).one()
    db.execute(Connection.__table__.update().values(next_sync_at=datetime(2020, 1, 1, tzinfo=UTC)))
    db.commit()
    worker = Process("worker", "--threads", "2", env=env)
    try:
        # The worker is connected before its broker goes away (our own probe is one client).
        probe = redis.Redis.from_url(broker.url)
        wait_for(lambda: len(probe.client_list()) > 1, timeout=30)
        probe.close()

        # When the broker dies, the scheduler's messages are lost with it
        broker.stop()
        lost = Process("scheduler", "--once", env={**env, "PLAUDIT_SYNC_LEASE_SECONDS": "1"})
        lost.proc.wait(timeout=60)
        assert status_of(db, reply.id) == ReplyStatus.PENDING

        # And it comes back empty
        broker.start()
        wait_for(lambda: _lease_of(db, connection_id) < datetime.now(UTC))  # it runs out
        again = Process("scheduler", "--once", env=env)
        assert again.proc.wait(timeout=60) == 0, again.stop()

        # Then the work is done all the same, from what PostgreSQL held
        wait_for(lambda: status_of(db, reply.id) == ReplyStatus.SENT, timeout=30)
        wait_for(
            lambda: db.scalars(
                select(SyncRun).where(SyncRun.connection_id == connection_id).offset(1)
            ).first(),
            timeout=30,
        )
    finally:
        output = worker.stop()
        broker.stop()
    assert len(posted(sandbox)) == 1, output


def _lease_of(db, connection_id: int) -> datetime:
    db.expire_all()
    return db.get(Connection, connection_id).next_sync_at


def rabbitmq_up() -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", 5672)) == 0


def test_a_reply_goes_through_rabbitmq_from_the_scheduler_to_a_worker(db, sandbox):
    if not rabbitmq_up():
        pytest.skip("RabbitMQ is not listening on 127.0.0.1:5672 (.ci/run starts it)")
    env = {
        "PLAUDIT_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672/",
        "PLAUDIT_REPLY_STUCK_SECONDS": "0",
    }
    reply = pending_reply(db)
    worker = Process("worker", "--threads", "1", env=env)
    try:
        scheduler = Process("scheduler", "--once", env=env)
        assert scheduler.proc.wait(timeout=60) == 0, scheduler.stop()
        wait_for(lambda: status_of(db, reply.id) == ReplyStatus.SENT, timeout=30)
    finally:
        output = worker.stop()
    assert len(posted(sandbox)) == 1, output


def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(db, serve_sandbox):
    # Given one location of 1,100 reviews, 22 pages of 50: a batch of 1,000 rows committed
    # after the 20th page, the 21st page's rows gathered in the next, and the 22nd page hanging
    reviews = BATCH_ROWS + 100
    pages = reviews // 50
    sandbox = serve_sandbox(locations=1, reviews_per_location=reviews)
    connection = connect_google(db)
    db.commit()
    page_path = r"^/mybusiness/v4/.*/reviews$"
    admin(sandbox, "POST", "/faults", json={"path": page_path, "delay": 0.001, "times": pages - 1})
    admin(sandbox, "POST", "/faults", json={"path": page_path, "delay": 120})
    broker.flush_all()
    worker = Process("worker", "--threads", "1")
    try:
        sync_capability.send(connection.id, "google_reviews")
        wait_for(
            lambda: review_requests(sandbox) == pages and _items(db) == BATCH_ROWS, timeout=120
        )

        # When the worker dies with the last page on its way and a batch in flight
        worker.kill()
    finally:
        worker.stop()
        broker.flush_all()

    # Then a sync afterwards (once the dead worker's lock is gone) stores every review once:
    # the committed thousand are read again and left alone, the hundred lost are written
    run = wait_for(lambda: sync(connection.id, "google_reviews"), timeout=30)
    assert run.status == "succeeded" and run.written == reviews - BATCH_ROWS
    assert _items(db) == reviews
    assert db.scalar(select(func.count(func.distinct(Item.external_id)))) == reviews
    db.expire_all()
    assert db.scalars(select(Checkpoint)).one().cursor is not None


def _items(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count(Item.id)))
