"""The scheduler: due work is enqueued once, however many schedulers run, per organisation."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import select

from core.settings import get_settings
from models import (
    AlertPreference,
    Campaign,
    Connection,
    ConnectionStatus,
    EmailMessage,
    Organisation,
    Recipient,
    RecipientStatus,
    User,
)
from scheduler.loop import enqueue_due_syncs, tick
from tests.support import this_runs_broker, wait_for
from workers.runner import start_worker


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


def queued_for(actor: str) -> list[list]:
    """The arguments of the messages waiting (not delayed) for ``actor``."""
    settings = get_settings()
    client = redis.Redis.from_url(settings.broker_url)
    messages = [json.loads(m) for m in client.hvals(f"{settings.broker_namespace}:default.msgs")]
    return [m["args"] for m in messages if m["actor_name"] == actor]


def an_organisation(db, name: str) -> Organisation:
    organisation = Organisation(name=name)
    db.add(organisation)
    db.commit()
    return organisation


def test_an_organisation_whose_step_fails_is_skipped_and_the_others_proceed(db, caplog):
    # Given three organisations with a sync due, the second one's connection record unreadable
    this_runs_broker().flush_all()
    now = datetime.now(UTC)
    first, broken, third = (an_organisation(db, name) for name in ("First", "Broken", "Third"))
    for organisation in (first, broken, third):
        capabilities = {"google_qanda": {"state": "disabled"}}
        if organisation is broken:
            capabilities = {"google_reviews": "not a state record"}
        db.add(
            Connection(
                organisation_id=organisation.id,
                provider="google",
                status=ConnectionStatus.ACTIVE,
                next_sync_at=now,
                capabilities=capabilities,
            )
        )
    db.commit()
    caplog.set_level(logging.ERROR, logger="scheduler.loop")

    # When the scheduler ticks
    result = tick(now)

    # Then the other two organisations' syncs are enqueued, and the failure is logged by tenant
    enqueued = {args[0] for args in queued_for("sync.capability")}
    connections = {c.organisation_id: c.id for c in db.scalars(select(Connection))}
    assert enqueued == {connections[first.id], connections[third.id]}
    assert result.syncs == 2
    assert [r.getMessage() for r in caplog.records] == [
        f"scheduler: syncs of organisation {broken.id} failed"
    ]
    # And the broken one is left due, for the next tick (its claim was rolled back)
    db.expire_all()
    assert db.get_one(Connection, connections[broken.id]).next_sync_at <= now
    assert db.get_one(Connection, connections[first.id]).next_sync_at > now


def test_due_feedback_is_enqueued_once_per_organisation(db):
    # Given two organisations with feedback requests due (one with two), and one not yet due
    this_runs_broker().flush_all()
    now = datetime.now(UTC)
    due, also_due, later = (an_organisation(db, n) for n in ("Due", "Also due", "Later"))
    for organisation, count, when in ((due, 2, now), (also_due, 1, now), (later, 1, None)):
        campaign = Campaign(organisation_id=organisation.id, name="Spring")
        db.add(campaign)
        db.flush()
        for i in range(count):
            db.add(
                Recipient(
                    organisation_id=organisation.id,
                    campaign_id=campaign.id,
                    name="Ann",
                    email=f"ann{i}@example.com",
                    email_index=f"{organisation.id}-{i}",
                    status=RecipientStatus.QUEUED,
                    next_send_at=when or now + timedelta(hours=1),
                )
            )
    db.commit()

    # When the scheduler ticks
    result = tick(now)

    # Then each organisation with requests due gets one job, which the worker throttles
    assert sorted(queued_for("feedback.send_due")) == sorted([[due.id], [also_due.id]])
    assert result.feedback == 2
    # And nothing was e-mailed by the scheduler itself
    assert db.scalars(select(EmailMessage)).all() == []

    # When a worker takes the jobs, the due recipients' requests go into the e-mail outbox
    worker = start_worker(threads=1)
    try:
        requested = select(EmailMessage.recipient_id).where(
            EmailMessage.template == "feedback_request"
        )
        wait_for(lambda: len(db.scalars(requested).all()) == 3, timeout=20)
    finally:
        worker.stop()
    due_recipients = select(Recipient.id).where(Recipient.organisation_id != later.id)
    assert sorted(db.scalars(requested)) == sorted(db.scalars(due_recipients))


def test_due_digests_are_enqueued_once_per_organisation(db):
    # Given two members of one organisation and one of another who want a daily digest, and
    # a member whose digest went out an hour ago
    this_runs_broker().flush_all()
    now = datetime.now(UTC)
    one, other, recent = (an_organisation(db, n) for n in ("One", "Other", "Recent"))
    for i, (organisation, last) in enumerate(
        [(one, None), (one, None), (other, None), (recent, now - timedelta(hours=1))]
    ):
        user = User(email=f"m{i}@example.com", email_index=f"m{i}", password_hash="x")
        db.add(user)
        db.flush()
        db.add(
            AlertPreference(
                organisation_id=organisation.id,
                user_id=user.id,
                daily_digest=True,
                last_digest_at=last,
            )
        )
    db.commit()

    # When the scheduler ticks
    result = tick(now)

    # Then one job per organisation with a digest due; the job writes the digests
    assert sorted(queued_for("alerts.digests")) == sorted([[one.id], [other.id]])
    assert result.digests == 2
    assert db.scalars(select(EmailMessage)).all() == []
