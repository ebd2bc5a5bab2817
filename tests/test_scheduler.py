"""The scheduler: due syncs are enqueued once, however many schedulers run."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import select

from models import Connection, ConnectionStatus, Organisation
from plaudit.settings import get_settings
from scheduler.loop import enqueue_due_syncs


def queued_messages() -> int:
    settings = get_settings()
    client = redis.Redis.from_url(settings.broker_url)
    return client.hlen(f"{settings.broker_namespace}:default.msgs")


@pytest.mark.commits  # two schedulers race in threads, each on its own connection
def test_two_schedulers_never_enqueue_the_same_sync(db):
    # Given 40 connections due now, 10 not yet due and 5 needing re-authorisation
    organisation = Organisation(name="Chain")
    db.add(organisation)
    db.flush()
    now = datetime.now(UTC)
    for i in range(55):
        db.add(
            Connection(
                organisation_id=organisation.id,
                provider="google",
                status=ConnectionStatus.NEEDS_REAUTH if i >= 50 else ConnectionStatus.ACTIVE,
                next_sync_at=now + timedelta(hours=1) if 40 <= i < 50 else now,
                # As the workers record it with Q&A off: one capability to sync.
                capabilities={"google_qanda": {"state": "disabled"}},
            )
        )
    db.commit()
    before = queued_messages()

    # When two schedulers tick at the same moment, several times
    counts: list[int] = []
    barrier = threading.Barrier(2)

    def scheduler() -> None:
        barrier.wait()
        for _ in range(5):
            counts.append(enqueue_due_syncs(now))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then each due connection was enqueued exactly once, and pushed forward
    assert sum(counts) == 40
    assert queued_messages() - before == 40
    db.expire_all()
    due_again = db.scalars(
        select(Connection).where(
            Connection.next_sync_at <= now, Connection.status == ConnectionStatus.ACTIVE
        )
    ).all()
    assert due_again == []
