"""A sync run: a connection's capability synced into the items table, one location at a time.

The steps, in order: the gates (an active connection, a capability the provider still offers),
the sync's lock (one run of a capability at a time), the run's record (new, continued, or none
when a run since the request already did the work), the pass over the locations
(`location_pass`), and the outcome: provider failures mapped onto the connection, the
capability or a pause.

A rate limit pauses the run (``waiting``): a delayed message continues the same run
(``run_id``) from the location it stopped at (``start_at``) and, where the listing's cursors
allow, from the page it stopped at (``resume``), so that a quota smaller than the locations
still gets through and the record tells the truth about the whole sync. A rate limit never
ends a run: it is waited out as long as the provider asks.

A continuation, or the sync of one location, that finds another run of its capability under way
waits too, as long as it takes: neither the provider's waits nor the lock's are dramatiq
retries, which would run out and drop the sync. Each wait is a fresh delayed message, and the
run's row keeps it (``continuation``) in the transaction that sends it, so the scheduler sends
it again if the broker loses it (``services.sync.continuations``). Its ``turn`` tells the current
message from an older copy, which does nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from connectors import errors
from connectors.account import ProviderAccount
from core.errors import Invalid
from core.settings import get_settings
from models import CapabilityState, Connection, ConnectionStatus, SyncRun, SyncRunStatus
from models.db import get_engine
from services.jobs import send_after_commit
from services.sync.accounts import (
    location_ref,
    mark_needs_reauth,
    open_account,
    record_enabled_capabilities,
    save_tokens,
)
from services.sync.location_pass import Bookmark, SyncStats, sync_location
from services.sync.locations import active_locations, locations_stale, refresh_locations
from services.sync.schedule import schedule_next

log = logging.getLogger(__name__)
SYNC = "sync.capability"  # the actor that runs one sync
# Pauses in a row without progress before a run fails (as many as dramatiq's retries were).
MAX_STALLS = 8
# The error class of a run whose worker died, or whose continuation was lost.
INTERRUPTED = "Interrupted"


# A sync waiting for the lock looks again after the setting's wait, doubled each time up to this
# many times it: a long run holding the lock is not asked about every two seconds.
MAX_LOCK_WAIT_FACTOR = 16


@contextmanager
def dedicated_session() -> Iterator[Session]:
    """The session a sync needs: one database connection for the whole run, since a full pass
    keeps the ids it saw in a temporary table. Everything goes through the session, so that its
    commits are the connection's commits."""
    with get_engine().connect() as dbconn, Session(bind=dbconn, expire_on_commit=False) as s:
        yield s


def sync(
    session: Session,
    *,
    connection_id: int,
    capability: str,
    location_id: int | None = None,
    start_at: int | None = None,
    run_id: int | None = None,
    stalls: int = 0,
    requested_at: datetime | None = None,
    today: date | None = None,
    resume: dict[str, Any] | None = None,
    turn: int | None = None,
    busy: int = 0,
) -> SyncRun | None:
    """Run one sync, of every location or (after a push) of one; returns its record, or None
    when there was nothing to sync. ``session`` comes from `dedicated_session`.

    ``stalls`` counts the pauses in a row without progress; ``resume`` is where in the
    ``start_at`` location a paused pass stopped. ``requested_at`` is when the sync
    was asked for: a run of every location that started since then has done what was asked,
    so a second message for the same request (the scheduler's and "sync now") does nothing.
    ``today`` is the day date-bound capabilities are judged by (None: today, UTC).
    ``turn`` is the continuation this message is (None: any), ``busy`` how many times in a row
    it has found the lock held.
    """
    opened = _open(session, connection_id, capability, run_id, today)
    if opened is None:
        return None
    connection, account = opened
    with _sync_lock(session, connection_id, capability) as held:
        if not held:
            if location_id is None and run_id is None:
                return None  # a duplicate message: another worker is syncing this right now
            # The running sync may already be past this location: wait for it to end.
            asked = _Message(run_id, start_at, stalls, resume, turn, busy)
            return _wait_for_lock(session, connection.id, capability, location_id, asked)
        run = _claim_run(session, connection, capability, location_id, run_id, requested_at, turn)
        if run is None:
            session.commit()
            return None
        return _run(
            session,
            connection,
            account,
            run,
            start_at=start_at,
            stalls=stalls,
            resume=resume,
            turn=turn,
        )


def _open(
    session: Session, connection_id: int, capability: str, run_id: int | None, today: date | None
) -> tuple[Connection, ProviderAccount] | None:
    """The gates: the connection and its account, or None when it cannot sync (a paused run
    of it then ends as failed)."""
    connection = session.get(Connection, connection_id)
    if connection is None or connection.status != ConnectionStatus.ACTIVE:
        _give_up(session, run_id)
        return None
    account = open_account(connection, today=today)
    if capability not in account.streams:
        raise Invalid(
            "unknown_capability",
            f"unknown capability {capability!r} for {connection.provider}",
            field="capability",
        )
    record_enabled_capabilities(connection, today=today)
    if connection.capability_state(capability) != CapabilityState.AVAILABLE:
        session.commit()
        _give_up(session, run_id)
        return None
    return connection, account


@dataclass(frozen=True)
class _Message:
    """What a message that continues a run carries (the actor's keyword arguments)."""

    run_id: int | None
    start_at: int | None
    stalls: int
    resume: dict[str, Any] | None
    turn: int | None
    busy: int


def _wait_for_lock(
    session: Session,
    connection_id: int,
    capability: str,
    location_id: int | None,
    asked: _Message,
) -> SyncRun | None:
    """Another run of this capability holds the lock: this run waits for it, recorded, and its
    message comes back after a wait that grows with each look. The sync of one location that
    has no run yet gets one, unless one is already waiting to sync that location from its top."""
    if asked.run_id is not None:
        # Locked: the run's own messages and a lost run's takeover must not cross here.
        run = session.get(SyncRun, asked.run_id, with_for_update=True)
        if run is None or not _continues(run, asked.turn):
            session.commit()
            return None  # it ended meanwhile, or this is an older copy of its message
        kwargs = _continuation(run.id, asked.start_at, asked.stalls, asked.resume, asked.turn)
    else:
        waiting = _waiting_from_the_top(session, connection_id, capability, location_id)
        if waiting is not None:
            session.commit()
            return waiting  # it will read this location when the lock is free
        run = SyncRun(
            connection_id=connection_id,
            location_id=location_id,
            capability=capability,
            status=SyncRunStatus.WAITING,
            started_at=datetime.now(UTC),
            errors=[],
        )
        session.add(run)
        session.flush()
        kwargs = _continuation(run.id, None, 0, None, None)
    base = get_settings().sync_lock_wait_seconds
    wait = base * min(2**asked.busy, MAX_LOCK_WAIT_FACTOR)
    where = (connection_id, capability, location_id)
    _continue_later(session, run, where, {**kwargs, "busy": asked.busy + 1}, wait)
    session.commit()
    return run


def _waiting_from_the_top(
    session: Session, connection_id: int, capability: str, location_id: int | None
) -> SyncRun | None:
    """A run of this location waiting that has not begun reading it (its continuation starts
    at no location): it will read everything a second one would. Until this transaction ends,
    no other message of this location looks (or adds one)."""
    key = {"key": f"sync-wait:{connection_id}:{capability}:{location_id}"}
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), key)
    waiting = session.scalars(
        select(SyncRun).where(
            SyncRun.connection_id == connection_id,
            SyncRun.capability == capability,
            SyncRun.location_id == location_id,
            SyncRun.status == SyncRunStatus.WAITING,
        )
    )
    return next((r for r in waiting if (r.continuation or {}).get("start_at") is None), None)


def _continues(run: SyncRun, turn: int | None) -> bool:
    """Whether a message of this turn (None: a message that does not say) continues ``run``."""
    if run.status != SyncRunStatus.WAITING:
        return False
    return turn is None or (run.continuation or {}).get("turn") == turn


def _continuation(
    run_id: int,
    start_at: int | None,
    stalls: int,
    resume: dict[str, Any] | None,
    turn: int | None,
) -> dict[str, Any]:
    """The keyword arguments of the next message of a run; its turn follows this message's."""
    kwargs: dict[str, Any] = {
        "start_at": start_at,
        "run_id": run_id,
        "stalls": stalls,
        "turn": (turn or 0) + 1,
    }
    if resume is not None:
        kwargs["resume"] = resume
    return kwargs


def _continue_later(
    session: Session,
    run: SyncRun,
    where: tuple[int, str, int | None],
    kwargs: dict[str, Any],
    wait: float,
) -> None:
    """Pause ``run`` for ``wait`` seconds: its row keeps the message that continues it, sent
    once this transaction commits (and again by the scheduler if the broker loses it).
    ``where`` is the message's connection, capability and location."""
    run.status = SyncRunStatus.WAITING
    run.resumes_at = datetime.now(UTC) + timedelta(seconds=wait)
    run.continuation = kwargs
    send_after_commit(session, SYNC, *where, delay_ms=int(wait * 1000), **kwargs)


@contextmanager
def _sync_lock(session: Session, connection_id: int, capability: str) -> Iterator[bool]:
    """A session-level advisory lock: it outlives the per-page commits of this run."""
    key = {"key": f"sync:{connection_id}:{capability}"}
    held = bool(session.scalar(text("SELECT pg_try_advisory_lock(hashtext(:key))"), key))
    try:
        yield held
    finally:
        if held:
            session.execute(text("SELECT pg_advisory_unlock(hashtext(:key))"), key)


def _claim_run(
    session: Session,
    connection: Connection,
    capability: str,
    location_id: int | None,
    run_id: int | None,
    requested_at: datetime | None,
    turn: int | None,
) -> SyncRun | None:
    """The run this message carries on, a new one, or None when there is nothing to do.
    Called with the sync's lock held: no other run of this capability is alive."""
    now = datetime.now(UTC)
    runs = select(SyncRun).where(
        SyncRun.connection_id == connection.id, SyncRun.capability == capability
    )
    # A run still marked running while we hold the lock lost its worker (a crash).
    for dead in session.scalars(runs.where(SyncRun.status == SyncRunStatus.RUNNING)):
        _end(dead, SyncRunStatus.FAILED, error_class=INTERRUPTED, at=now)
    if run_id is not None:
        run = session.get(SyncRun, run_id)
        if run is None or not _continues(run, turn):
            # It ended meanwhile (given up, or taken over as lost), or another copy of this
            # message continued it already.
            return None
        run.status, run.resumes_at, run.continuation = SyncRunStatus.RUNNING, None, None
        return run
    if location_id is None:
        latest = session.scalars(
            runs.where(SyncRun.location_id.is_(None)).order_by(SyncRun.id.desc()).limit(1)
        ).first()
        if not _needs_a_run(latest, requested_at, now):
            return None
        schedule_next(connection)
    run = SyncRun(
        connection_id=connection.id,
        location_id=location_id,
        capability=capability,
        status=SyncRunStatus.RUNNING,
        started_at=now,
        errors=[],
    )
    session.add(run)
    return run


def _needs_a_run(latest: SyncRun | None, requested_at: datetime | None, now: datetime) -> bool:
    """Whether a sync of every location must start, given the latest such run."""
    if latest is not None and latest.status == SyncRunStatus.WAITING:
        lost_after = timedelta(seconds=get_settings().sync_lease_seconds)
        if latest.resumes_at is not None and latest.resumes_at + lost_after > now:
            return False  # its continuation is on its way and will do what is asked
        # Its continuation never came (a broker restart): this run starts afresh.
        _end(latest, SyncRunStatus.FAILED, error_class=INTERRUPTED, at=now)
        return True
    # A run that started since this was asked for has done it.
    return not (
        latest is not None
        and requested_at is not None
        and latest.started_at >= requested_at
        and latest.error_class != INTERRUPTED
    )


@dataclass
class _Progress:
    """What a run has got through, for its record and its continuation."""

    stats: SyncStats
    resume_at: int | None  # the location a pause stopped at
    position: dict[str, Any] | None = None  # and where in it (see `Bookmark`)
    done: int = 0  # locations finished by this message
    pause: float | None = None  # seconds to wait before the run continues
    rate_limited: bool = False
    fetched_before: int = field(init=False)  # records read by this message count as progress

    def __post_init__(self) -> None:
        self.fetched_before = self.stats.fetched


def _run(
    session: Session,
    connection: Connection,
    account: ProviderAccount,
    run: SyncRun,
    *,
    start_at: int | None,
    stalls: int,
    resume: dict[str, Any] | None = None,
    turn: int | None = None,
) -> SyncRun:
    session.commit()
    # Kept apart from the rows: a rollback expires them, and the record is written regardless.
    connection_id, capability, location_id = connection.id, run.capability, run.location_id
    started = time.monotonic()
    before_requests, before_waits = run.requests or 0, run.rate_limit_waits or 0
    progress = _Progress(SyncStats(run), resume_at=start_at, position=resume)
    try:
        _pass(session, connection, account, run, progress, start_at=start_at)
        run.status = SyncRunStatus.PARTIAL if run.errors else SyncRunStatus.SUCCEEDED
        connection.last_synced_at = datetime.now(UTC)
    except errors.ProviderError as exc:
        session.rollback()
        stalls = _settle(session, connection, run, exc, progress, stalls)
    except Exception as exc:
        session.rollback()
        _fail(run, exc)
        raise
    finally:
        save_tokens(session, connection_id=connection_id, account=account)
        run.requests = before_requests + account.requests_made
        run.rate_limit_waits = before_waits + account.rate_limit_waits + int(progress.rate_limited)
        progress.stats.book(run)
        run.duration_ms = (run.duration_ms or 0) + int((time.monotonic() - started) * 1000)
        if run.status != SyncRunStatus.WAITING:
            run.finished_at = datetime.now(UTC)
        if progress.pause is not None:
            # Keep what was done: the next message continues this run where it stopped.
            kwargs = _continuation(run.id, progress.resume_at, stalls, progress.position, turn)
            where = (connection_id, capability, location_id)
            _continue_later(session, run, where, kwargs, progress.pause)
        session.add(run)
        session.commit()
    return run


def _pass(
    session: Session,
    connection: Connection,
    account: ProviderAccount,
    run: SyncRun,
    progress: _Progress,
    *,
    start_at: int | None,
) -> None:
    """The locations, in order; one broken location does not stop the others."""
    if locations_stale(connection):
        refresh_locations(session, connection, account)
        if run.location_id is None:
            schedule_next(connection)  # push may have just been turned on
    for location in active_locations(session, connection.id, run.location_id, start_at):
        progress.resume_at = location.id
        bookmark = Bookmark(progress.position if location.id == start_at else None)
        progress.position = None
        stream = account.stream(run.capability, location_ref(location))
        try:
            sync_location(session, stream, connection, location, progress.stats, bookmark)
        except errors.Transient:
            progress.position = bookmark.position  # the next message carries on from there
            raise
        except (errors.NotFound, errors.Rejected) as exc:
            session.rollback()
            if isinstance(exc, errors.NotFound):
                location.active = False
            _fail(run, exc, location=location.external_id)
        progress.done += 1


def _settle(
    session: Session,
    connection: Connection,
    run: SyncRun,
    exc: errors.ProviderError,
    progress: _Progress,
    stalls: int,
) -> int:
    """Map a provider failure that stopped the run onto the connection, the capability or a
    pause; returns the pauses in a row without progress."""
    if isinstance(exc, errors.NeedsReauth):
        mark_needs_reauth(session, connection_id=connection.id, message=str(exc))
        _fail(run, exc)
    elif isinstance(exc, errors.CapabilityRetired | errors.MissingPermission):
        state = (
            CapabilityState.RETIRED
            if isinstance(exc, errors.CapabilityRetired)
            else CapabilityState.MISSING_PERMISSION
        )
        _set_capability(connection, run.capability, state, str(exc))
        _fail(run, exc)
    elif isinstance(exc, errors.Transient):
        moved = progress.done or progress.stats.fetched > progress.fetched_before
        if isinstance(exc, errors.RateLimited):
            stalls = 0 if moved else stalls  # waited out, never a reason to give up
        else:
            stalls = 0 if moved else stalls + 1
        if stalls > MAX_STALLS:
            _fail(run, exc)  # no progress through this many waits: the provider is down
        else:
            # Wait out the provider's window in the broker, not in this thread.
            progress.pause = exc.retry_after or 5.0
            progress.rate_limited = isinstance(exc, errors.RateLimited)
            run.status = SyncRunStatus.WAITING
            log.info(
                "sync %s of connection %s waits %.0fs: %s", run.capability, connection.id,
                progress.pause, type(exc).__name__,
            )  # fmt: skip
    else:
        _fail(run, exc)
        raise exc
    return stalls


def _give_up(session: Session, run_id: int | None) -> None:
    """A paused run whose connection or capability can no longer sync ends as failed."""
    run = session.get(SyncRun, run_id) if run_id is not None else None
    if run is not None and run.status == SyncRunStatus.WAITING:
        _end(run, SyncRunStatus.FAILED, error_class="NotSyncable", at=datetime.now(UTC))
        session.commit()


def _end(run: SyncRun, status: str, *, error_class: str, at: datetime) -> None:
    run.status, run.error_class, run.finished_at = status, error_class, at
    run.resumes_at = run.continuation = None


def _set_capability(connection: Connection, capability: str, state: str, message: str) -> None:
    connection.capabilities = {
        **connection.capabilities,
        capability: {"state": state, "message": message, "since": datetime.now(UTC).isoformat()},
    }


def _fail(run: SyncRun, exc: Exception, *, location: str | None = None) -> None:
    if location is None:
        run.status = SyncRunStatus.FAILED
    if location is None or run.error_class is None:
        run.error_class = type(exc).__name__[:60]
    entry = {"type": type(exc).__name__, "message": str(exc)[:500], "location": location}
    run.errors = [*run.errors, entry]
    log.warning("sync %s of connection %s: %s", run.capability, run.connection_id, exc)
