"""One outbox mechanism, for everything plaudit sends on someone's behalf: replies, e-mails and
webhook deliveries are rows written before they are sent, and sent by this code.

The life of a row, whichever outbox it is in:

1. **claim** — lock the row (``FOR UPDATE SKIP LOCKED``); a row locked elsewhere is busy and
   left alone, so two workers never send the same row at once;
2. **prepare** — the outbox may settle the row without an attempt (a suppressed address, a
   disabled endpoint, an item that is gone);
3. **mark** — the attempt is counted and the row marked ``sending``, and that is *committed
   before the call*: a worker that dies mid-call leaves the evidence behind;
4. **attempt** — claimed again; when an earlier attempt's outcome is unknown (the row was still
   ``sending``, or the outbox says an answer was lost) the outbox *reads back* what the other
   end already has before it writes anything, so an ambiguous failure never causes a second
   effect;
5. **record** — sent, failed, or retried within the outbox's one budget: the next attempt is a
   message enqueued after the commit, delayed by the backoff (or by the other end's
   ``Retry-After``). The broker does not retry these actors; the row is the only count.

An outbox without a ``sending`` state (webhook deliveries: a receiver deduplicates by delivery
id, and there is nothing to read back) attempts within the claiming transaction, holding the
lock through the call.

**reconcile** is the one safety net for all of them: rows a lost message or a dead worker left
unfinished are claimed with ``SKIP LOCKED``, pushed forward and enqueued again, so several
schedulers never double them.

An outbox declares only what is its own: its model and statuses, its budget, its attempt and its
read-back (:class:`Attempt`), how its failures read, and what follows a recorded outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from services.jobs import send_after_commit

log = logging.getLogger(__name__)
BATCH = 500


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- outcomes of an attempt -------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """The other end has it; ``result`` is what it answered (a posted reply, a message id)."""

    result: Any = None


@dataclass(frozen=True)
class Retry:
    """Worth trying again, within the budget; ``after``: the other end's wait, in seconds."""

    error: str
    after: float | None = None


@dataclass(frozen=True)
class Later:
    """Not now, and not counted against the budget (the connection needs re-authorising): the
    row goes back to pending and the reconciler brings it back."""

    error: str


@dataclass(frozen=True)
class Wait:
    """Not yet, by the sender's own pacing (a provider's per-object write rate): nothing was
    attempted, so nothing is counted; the row is enqueued again ``after`` seconds from now and
    kept from the reconciler meanwhile."""

    reason: str
    after: float


@dataclass(frozen=True)
class Failed:
    """Can never succeed."""

    error: str


@dataclass(frozen=True)
class Settled:
    """Finished with a status of the outbox's own (an e-mail to a suppressed address)."""

    status: str


Outcome = Sent | Retry | Later | Wait | Failed | Settled


# -- the budget -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """How long a row is tried: a number of attempts, an age, or both; backoff doubles from
    ``first_backoff`` up to ``max_backoff``."""

    first_backoff: timedelta
    max_backoff: timedelta
    max_attempts: Callable[[], int] | None = None
    max_age: Callable[[], timedelta] | None = None

    def backoff(self, attempts: int) -> timedelta:
        return min(self.first_backoff * 2 ** max(attempts - 1, 0), self.max_backoff)

    def next_wait(
        self, *, attempts: int, created_at: datetime, now: datetime, after: float | None = None
    ) -> timedelta | None:
        """How long until the next attempt, or None once the budget is spent."""
        if self.max_attempts is not None and attempts >= self.max_attempts():
            return None
        wait = timedelta(seconds=after) if after else self.backoff(attempts)
        if self.max_age is not None and now + wait >= created_at + self.max_age():
            return None
        return wait


# -- what an outbox declares ------------------------------------------------------------------


class Attempt(Protocol):
    """One attempt's means (a provider account, a mail back-end), opened for a claimed row."""

    def read_back(self) -> Outcome | None:
        """What an earlier attempt with an unknown outcome left at the other end: ``Sent`` if
        it is there, None if it is not (or cannot be told) and the write must be made."""

    def send(self) -> Outcome:
        """The write itself."""


Row = TypeVar("Row")


class Outbox(Generic[Row]):
    model: ClassVar[type]
    actor: ClassVar[str]  # the actor that delivers one row, by name (see services.jobs)
    budget: ClassVar[Budget]
    pending: ClassVar[str]
    sending: ClassVar[str | None]
    done: ClassVar[str]
    failed: ClassVar[str]

    @property
    def unfinished(self) -> tuple[str, ...]:
        return (self.pending,) if self.sending is None else (self.pending, self.sending)

    def prepare(self, session: Session, row: Row) -> Outcome | None:
        """Settle the row without an attempt, or None to go on."""
        return None

    def outcome_unknown(self, row: Row) -> bool:
        """Whether an earlier attempt may have reached the other end without our knowing."""
        return self.sending is not None and row.status == self.sending

    def mark(self, session: Session, row: Row, now: datetime) -> None:
        """What the outbox records with the attempt, before the call."""

    def attempt(self, session: Session, row: Row) -> AbstractContextManager[Attempt]:
        raise NotImplementedError

    def failure(self, session: Session, row: Row, exc: Exception) -> Outcome | None:
        """The outcome an exception of the attempt stands for; None: not ours, re-raised."""
        return None

    def recorded(self, session: Session, row: Row, outcome: Outcome, now: datetime) -> None:
        """What follows once the outcome is on the row (the item's reply text, a webhook)."""

    def gave_up(self, row: Row, error: str) -> str:
        return f"gave up after {row.attempts} attempts: {error}"

    def waiting(self, row: Row, until: datetime) -> None:
        """Note when the next attempt is due, where the outbox keeps that."""

    # The reconciler's view: which unfinished rows are left behind, and how a claimed one is
    # pushed forward so that it is not picked again until it is stale once more.
    def stale_after(self) -> timedelta:
        raise NotImplementedError

    def left_behind(self, query: Select[Any], before: datetime) -> Select[Any]:
        return query.where(self.model.updated_at < before).order_by(self.model.updated_at)

    def push_back(self, row: Row, now: datetime) -> None:
        row.updated_at = now


# -- the mechanism ----------------------------------------------------------------------------


def deliver(
    session: Session, outbox: Outbox[Any], *, row_id: int, clock: Callable[[], datetime] = utcnow
) -> str | None:
    """One attempt at one row; returns its status afterwards (None: busy elsewhere or gone).
    Commits the session: the attempt is recorded before the other end is called."""
    row = _claim(session, outbox, row_id)
    if row is None or row.status not in outbox.unfinished:
        return row.status if row else None
    early = outbox.prepare(session, row)
    if early is not None:
        _record(session, outbox, row, early, clock())
        session.commit()
        return row.status
    unknown = outbox.outcome_unknown(row)
    outbox.mark(session, row, clock())
    row.attempts += 1
    if outbox.sending is None:
        return _attempt(session, outbox, row, unknown=False, clock=clock)
    row.status = outbox.sending
    session.commit()

    row = _claim(session, outbox, row_id)
    if row is None or row.status != outbox.sending:
        return row.status if row else None
    return _attempt(session, outbox, row, unknown=unknown, clock=clock)


def _claim(session: Session, outbox: Outbox[Any], row_id: int) -> Any:
    model = outbox.model
    return session.scalars(
        select(model)
        .where(model.id == row_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).one_or_none()


def _attempt(
    session: Session,
    outbox: Outbox[Any],
    row: Any,
    *,
    unknown: bool,
    clock: Callable[[], datetime],
) -> str:
    try:
        with outbox.attempt(session, row) as attempt:
            outcome = (attempt.read_back() if unknown else None) or attempt.send()
    except Exception as exc:
        mapped = outbox.failure(session, row, exc)
        if mapped is None:
            raise
        outcome = mapped
    _record(session, outbox, row, outcome, clock())
    session.commit()
    return row.status


def _record(
    session: Session, outbox: Outbox[Any], row: Any, outcome: Outcome, now: datetime
) -> None:
    match outcome:
        case Sent():
            row.status, row.last_error = outbox.done, None
        case Settled(status=status):
            row.status = status
        case Later(error=error):
            row.status, row.last_error = outbox.pending, _fit(outbox, error)
        case Wait(after=after):
            row.status = outbox.pending
            until = now + timedelta(seconds=after)
            outbox.waiting(row, until)
            # Not stale before it is due: the reconciler would start a second chain of it.
            outbox.push_back(row, until)
            send_after_commit(session, outbox.actor, row.id, delay_ms=max(1, int(after * 1000)))
        case Failed(error=error):
            _fail(outbox, row, error)
        case Retry(error=error, after=after):
            row.last_error = _fit(outbox, error)
            wait = outbox.budget.next_wait(
                attempts=row.attempts, created_at=row.created_at, now=now, after=after
            )
            if wait is None:
                _fail(outbox, row, outbox.gave_up(row, error))
            else:
                row.status = outbox.pending
                outbox.waiting(row, now + wait)
                delay_ms = max(1, int(wait.total_seconds() * 1000))
                send_after_commit(session, outbox.actor, row.id, delay_ms=delay_ms)
    outbox.recorded(session, row, outcome, now)


def _fail(outbox: Outbox[Any], row: Any, error: str) -> None:
    row.status, row.last_error = outbox.failed, _fit(outbox, error)
    log.warning("%s %s failed: %s", outbox.actor, row.id, row.last_error)


def _fit(outbox: Outbox[Any], error: str) -> str:
    length = outbox.model.__table__.c.last_error.type.length
    return error[:length] if length else error


def _left_behind(outbox: Outbox[Any], now: datetime) -> Select[Any]:
    model = outbox.model
    query = select(model).where(model.status.in_(outbox.unfinished))
    return outbox.left_behind(query, now - outbox.stale_after())


def organisations_left_behind(session: Session, outbox: Outbox[Any], *, now: datetime) -> list[int]:
    """The organisations with rows for `reconcile` (the scheduler reconciles each apart)."""
    model = outbox.model
    query = (
        _left_behind(outbox, now)
        .order_by(None)
        .with_only_columns(model.organisation_id)
        .distinct()
        .limit(BATCH)
    )
    return list(session.scalars(query))


def reconcile(
    session: Session, outbox: Outbox[Any], *, now: datetime, organisation_id: int | None = None
) -> int:
    """Enqueue again the rows a lost message or a dead worker left unfinished; returns how many.
    Claimed with SKIP LOCKED and pushed forward in the caller's transaction, so several
    schedulers never enqueue the same row; the messages go out when it commits."""
    model = outbox.model
    query = _left_behind(outbox, now)
    if organisation_id is not None:
        query = query.where(model.organisation_id == organisation_id)
    stuck = list(session.scalars(query.limit(BATCH).with_for_update(of=model, skip_locked=True)))
    for row in stuck:
        outbox.push_back(row, now)
        send_after_commit(session, outbox.actor, row.id)
    return len(stuck)
