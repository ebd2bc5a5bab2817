"""The outbox mechanism on its own: claim, mark, attempt, read back, record, reconcile, and the
budget, with the clock injected and a scripted attempt standing in for the other end (the rows
are real, in PostgreSQL; the e-mail, reply and webhook outboxes are tested end to end elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from models import EmailMessage, EmailStatus, Organisation
from models.db import get_sessionmaker, session_scope
from services import jobs, outbox
from services.outbox import Budget, Outcome, Retry, Sent

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Scripted(outbox.Outbox[EmailMessage]):
    """An outbox over e-mail rows whose attempts answer what the test says."""

    model = EmailMessage
    actor = "email.send"
    budget = Budget(
        first_backoff=timedelta(seconds=2),
        max_backoff=timedelta(seconds=10),
        max_attempts=lambda: 3,
    )
    pending, sending = EmailStatus.PENDING, EmailStatus.SENDING
    done, failed = EmailStatus.SENT, EmailStatus.FAILED

    def __init__(self, *answers: Outcome | Exception, found: Outcome | None = None) -> None:
        self.answers = list(answers)
        self.found = found
        self.calls: list[str] = []

    @contextmanager
    def attempt(self, session: Session, row: EmailMessage) -> Iterator[Scripted]:
        yield self

    def read_back(self) -> Outcome | None:
        self.calls.append("read_back")
        return self.found

    def send(self) -> Outcome:
        self.calls.append("send")
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def failure(self, session: Session, row: EmailMessage, exc: Exception) -> Outcome | None:
        return Retry(f"timed out: {exc}") if isinstance(exc, TimeoutError) else None

    def stale_after(self) -> timedelta:
        return timedelta(minutes=5)


class AgeLimited(Scripted):
    budget = Budget(
        first_backoff=timedelta(seconds=30),
        max_backoff=timedelta(hours=6),
        max_age=lambda: timedelta(hours=1),
    )


@pytest.fixture
def org(db) -> Organisation:
    organisation = Organisation(name="Outbox Ltd")
    db.add(organisation)
    db.commit()
    return organisation


def a_row(db, org: Organisation, n: int = 1, **values) -> EmailMessage:
    row = EmailMessage(
        organisation_id=org.id,
        to_address=f"person{n}@example.com",
        to_index=f"index-{n}",
        template="notice",
        context="{}",
        message_id=f"<m{n}@example.com>",
        **({"status": EmailStatus.PENDING, "attempts": 0} | values),
    )
    db.add(row)
    db.commit()
    return row


def deliver(box: outbox.Outbox, row_id: int, clock: Clock) -> tuple[str | None, list[jobs.Job]]:
    """One delivery, and the jobs its transactions asked for."""
    asked: list[jobs.Job] = []
    with session_scope() as session:
        event.listen(session, "before_commit", lambda s: asked.extend(jobs.pending(s)))
        status = outbox.deliver(session, box, row_id=row_id, clock=clock)
    return status, asked


def reload(db, row: EmailMessage) -> EmailMessage:
    db.expire_all()
    return db.get_one(EmailMessage, row.id)


def test_backoff_doubles_from_the_first_wait_up_to_the_cap():
    budget = Scripted.budget
    waits = [budget.backoff(attempts).total_seconds() for attempts in range(1, 6)]
    assert waits == [2, 4, 8, 10, 10]


def test_a_failure_worth_retrying_waits_the_backoff_until_the_attempts_are_spent(db, org):
    # Given a row whose every attempt times out
    row = a_row(db, org)
    box = Scripted(TimeoutError("no answer"), TimeoutError("no answer"), TimeoutError("again"))
    clock = Clock(T0)

    # When it is delivered three times, the budget's number of attempts
    first = deliver(box, row.id, clock)
    second = deliver(box, row.id, clock)

    # Then the first two wait 2 s and 4 s, each enqueued after its commit
    assert first == ("pending", [jobs.Job("email.send", (row.id,), {}, 2000)])
    assert second == ("pending", [jobs.Job("email.send", (row.id,), {}, 4000)])
    assert reload(db, row).last_error == "timed out: no answer"

    # And the third is the last: failed, with no further attempt
    assert deliver(box, row.id, clock) == ("failed", [])
    stored = reload(db, row)
    assert (stored.attempts, stored.last_error) == (3, "gave up after 3 attempts: timed out: again")
    assert box.calls == ["send", "send", "send"]


def test_the_other_ends_wait_is_kept_when_it_names_one(db, org):
    row = a_row(db, org)
    box = Scripted(Retry("rate limited", after=30))

    assert deliver(box, row.id, Clock(T0)) == (
        "pending",
        [jobs.Job("email.send", (row.id,), {}, 30_000)],
    )


def test_an_age_budget_ends_by_the_clock_not_the_count(db, org):
    # Given a row an hour's budget old, created at T0
    row = a_row(db, org)
    db.execute(update(EmailMessage).values(created_at=T0))
    db.commit()
    box = AgeLimited(Retry("answered 500"), Retry("answered 500"))

    # When it fails with time left for the next wait, it waits (30 s, the first backoff)
    status, asked = deliver(box, row.id, Clock(T0 + timedelta(minutes=50)))
    assert (status, [job.delay_ms for job in asked]) == ("pending", [30_000])

    # And when the next wait (60 s) would end past the deadline, it is dropped
    assert deliver(box, row.id, Clock(T0 + timedelta(minutes=59, seconds=1))) == ("failed", [])
    assert reload(db, row).last_error.startswith("gave up after 2 attempts")


def test_an_attempt_whose_worker_died_is_read_back_and_not_sent_again(db, org):
    # Given an attempt that ends without an answer the outbox knows (the worker dies)
    row = a_row(db, org)
    box = Scripted(RuntimeError("the worker died"), found=Sent("already-there"))
    with pytest.raises(RuntimeError):
        deliver(box, row.id, Clock(T0))
    stored = reload(db, row)
    assert (stored.status, stored.attempts) == ("sending", 1)  # committed before the call

    # When it is delivered again
    status, asked = deliver(box, row.id, Clock(T0))

    # Then the other end was asked first, and what it had is recorded: nothing sent twice
    assert (status, asked) == ("sent", [])
    assert box.calls == ["send", "read_back"]
    assert (reload(db, row).attempts, reload(db, row).last_error) == (2, None)


def test_a_read_back_that_finds_nothing_sends_once(db, org):
    row = a_row(db, org, status=EmailStatus.SENDING, attempts=1)
    box = Scripted(Sent(), found=None)

    assert deliver(box, row.id, Clock(T0))[0] == "sent"
    assert box.calls == ["read_back", "send"]


def test_a_row_without_an_earlier_unknown_outcome_is_not_read_back(db, org):
    row = a_row(db, org)
    box = Scripted(Sent(), found=Sent())

    assert deliver(box, row.id, Clock(T0))[0] == "sent"
    assert box.calls == ["send"]


@pytest.mark.commits  # the lock is held by another connection, which must see the row
def test_a_row_locked_elsewhere_is_left_alone(db, org):
    row = a_row(db, org)
    box = Scripted(Sent())
    other = get_sessionmaker()()
    try:
        other.scalars(select(EmailMessage).where(EmailMessage.id == row.id).with_for_update()).one()

        assert deliver(box, row.id, Clock(T0)) == (None, [])
    finally:
        other.rollback()
        other.close()
    assert box.calls == []
    assert reload(db, row).attempts == 0


def test_a_finished_row_is_not_attempted_again(db, org):
    row = a_row(db, org, status=EmailStatus.SENT, attempts=1)
    box = Scripted(Sent())

    assert deliver(box, row.id, Clock(T0)) == ("sent", [])
    assert box.calls == []


def test_the_reconciler_takes_each_left_behind_row_once_per_staleness(db, org):
    # Given two rows left unfinished ten minutes ago, one just touched, and one sent
    other_org = Organisation(name="Elsewhere")
    db.add(other_org)
    db.commit()
    stale = [a_row(db, org, 1), a_row(db, org, 2, status=EmailStatus.SENDING)]
    fresh = a_row(db, org, 3)
    done = a_row(db, org, 4, status=EmailStatus.SENT)
    theirs = a_row(db, other_org, 5)
    db.execute(update(EmailMessage).values(updated_at=T0 - timedelta(minutes=10)))
    db.execute(update(EmailMessage).where(EmailMessage.id == fresh.id).values(updated_at=T0))
    db.commit()
    box = Scripted()

    # When the scheduler reconciles this organisation
    with session_scope() as session:
        assert outbox.organisations_left_behind(session, box, now=T0) == sorted(
            [org.id, other_org.id]
        )
        asked: list[jobs.Job] = []
        event.listen(session, "before_commit", lambda s: asked.extend(jobs.pending(s)))
        assert outbox.reconcile(session, box, now=T0, organisation_id=org.id) == 2

    # Then the stale rows are enqueued again, and pushed forward so that a second scheduler
    # at the same moment finds nothing
    assert sorted(job.args for job in asked) == sorted((row.id,) for row in stale)
    with session_scope() as session:
        assert outbox.reconcile(session, box, now=T0, organisation_id=org.id) == 0
        # ... until they are stale once more
        later = T0 + timedelta(minutes=6)
        assert outbox.reconcile(session, box, now=later, organisation_id=org.id) == 3
    assert {done.id, theirs.id}.isdisjoint(job.args[0] for job in asked)
