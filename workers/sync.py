"""Syncing a connection's capability into the items table, one location at a time.

Each page is committed as it arrives, so a crash loses at most one page of work; the cursor
moves only after a complete pass (see ``connectors.base.IncrementalPass``).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import dramatiq
from dramatiq.middleware import CurrentMessage
from sqlalchemy import select, text
from sqlalchemy.orm import Session

import workers.broker  # noqa: F401  (the broker must exist before actors are declared)
from connectors import errors
from connectors.account import ProviderAccount
from connectors.base import Stream
from models import (
    CapabilityState,
    Checkpoint,
    Connection,
    ConnectionStatus,
    Location,
    SyncRun,
    SyncRunStatus,
)
from models.db import get_engine
from plaudit.settings import get_settings
from workers.accounts import (
    location_ref,
    mark_needs_reauth,
    open_account,
    record_enabled_capabilities,
    save_tokens,
)
from workers.item_events import Changes, announce
from workers.upsert import add_seen, mark_unseen_deleted, start_seen, upsert_items

log = logging.getLogger(__name__)
LOCATIONS_REFRESH = timedelta(hours=24)
# Pauses in a row without progress before a run fails (as many as dramatiq's retries were).
MAX_STALLS = 8
# The error class of a run whose worker died, or whose continuation was lost.
INTERRUPTED = "Interrupted"


class SyncStats:
    def __init__(self, run: SyncRun) -> None:
        # A continued run carries on counting from where it paused.
        self.fetched, self.written = run.fetched or 0, run.written or 0
        self.skipped, self.deleted = run.skipped or 0, run.deleted or 0


def sync(
    connection_id: int,
    capability: str,
    location_id: int | None = None,
    *,
    start_at: int | None = None,
    run_id: int | None = None,
    stalls: int = 0,
    requested_at: datetime | None = None,
) -> SyncRun | None:
    """Run one sync, of every location or (after a push) of one; returns its record, or None
    when there was nothing to sync.

    A rate limit pauses the run (``waiting``) and a delayed message continues the same run
    (``run_id``) from the location it stopped at (``start_at``), so that a quota smaller than
    the locations still gets through and the record tells the truth about the whole sync;
    ``stalls`` counts the pauses in a row without progress. ``requested_at`` is when the sync
    was asked for: a run of every location that started since then has done what was asked,
    so a second message for the same request (the scheduler's and "sync now") does nothing.
    """
    engine = get_engine()
    # One database connection for the whole run: the full pass keeps seen ids in a temp table.
    # Everything goes through the session, so that its commits are the connection's commits.
    with engine.connect() as dbconn, Session(bind=dbconn, expire_on_commit=False) as session:
        connection = session.get(Connection, connection_id)
        if connection is None or connection.status != ConnectionStatus.ACTIVE:
            _give_up(session, run_id)
            return None
        account = open_account(connection)
        if capability not in account.streams:
            raise ValueError(f"unknown capability {capability!r} for {connection.provider}")
        record_enabled_capabilities(connection)
        if connection.capability_state(capability) != CapabilityState.AVAILABLE:
            session.commit()
            _give_up(session, run_id)
            return None
        if not _try_lock(session, connection_id, capability):
            if location_id is not None or run_id is not None:
                # The running sync may already be past this location: look again shortly.
                raise dramatiq.Retry("a sync of this connection is running", delay=2000)
            return None  # a duplicate message: another worker is syncing this right now
        try:
            run = _claim_run(session, connection, capability, location_id, run_id, requested_at)
            if run is None:
                session.commit()
                return None
            return _run(session, connection, account, run, start_at=start_at, stalls=stalls)
        finally:
            _unlock(session, connection_id, capability)


def _claim_run(
    session: Session,
    connection: Connection,
    capability: str,
    location_id: int | None,
    run_id: int | None,
    requested_at: datetime | None,
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
        if run is None or run.status != SyncRunStatus.WAITING:
            return None  # it ended meanwhile (given up, or taken over as lost)
        run.status, run.resumes_at = SyncRunStatus.RUNNING, None
        return run
    if location_id is None:
        latest = session.scalars(
            runs.where(SyncRun.location_id.is_(None)).order_by(SyncRun.id.desc()).limit(1)
        ).first()
        if latest is not None and latest.status == SyncRunStatus.WAITING:
            lost_after = timedelta(seconds=get_settings().sync_lease_seconds)
            if latest.resumes_at is not None and latest.resumes_at + lost_after > now:
                return None  # its continuation is on its way and will do what is asked
            # Its continuation never came (a broker restart): this run starts afresh.
            _end(latest, SyncRunStatus.FAILED, error_class=INTERRUPTED, at=now)
        elif (
            latest is not None
            and requested_at is not None
            and latest.started_at >= requested_at
            and latest.error_class != INTERRUPTED
        ):
            return None  # a run that started since this was asked for has done it
        _schedule_next(connection)
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


def _run(
    session: Session,
    connection: Connection,
    account: ProviderAccount,
    run: SyncRun,
    *,
    start_at: int | None,
    stalls: int,
) -> SyncRun:
    session.commit()
    connection_id, capability, location_id = connection.id, run.capability, run.location_id
    started = time.monotonic()
    stats = SyncStats(run)
    before_requests, before_waits = run.requests or 0, run.rate_limit_waits or 0
    retry_after: float | None = None
    rate_limited = False
    resume_at = start_at  # the location a pause stopped at
    done = 0
    try:
        if _locations_stale(connection):
            _refresh_locations(session, connection, account)
            if location_id is None:
                _schedule_next(connection)  # push may have just been turned on
        for location in _active_locations(session, connection_id, location_id, start_at):
            resume_at = location.id
            stream = account.stream(capability, location_ref(location))
            try:
                _sync_location(session, stream, connection, location, stats)
            except (errors.NotFound, errors.Rejected) as exc:
                # One broken location must not stop the others.
                session.rollback()
                if isinstance(exc, errors.NotFound):
                    location.active = False
                _fail(run, exc, location=location.external_id)
            done += 1
        run.status = SyncRunStatus.PARTIAL if run.errors else SyncRunStatus.SUCCEEDED
        connection.last_synced_at = datetime.now(UTC)
    except errors.NeedsReauth as exc:
        session.rollback()
        mark_needs_reauth(session, connection_id, str(exc))
        _fail(run, exc)
    except (errors.CapabilityRetired, errors.MissingPermission) as exc:
        session.rollback()
        state = (
            CapabilityState.RETIRED
            if isinstance(exc, errors.CapabilityRetired)
            else CapabilityState.MISSING_PERMISSION
        )
        _set_capability(connection, capability, state, str(exc))
        _fail(run, exc)
    except errors.Transient as exc:
        session.rollback()
        stalls = 0 if done else stalls + 1
        if stalls > MAX_STALLS:
            _fail(run, exc)  # no progress through this many waits: the provider is down
        else:
            # Wait out the provider's window in the broker, not in this thread.
            retry_after = exc.retry_after or 5.0
            rate_limited = isinstance(exc, errors.RateLimited)
            run.status = SyncRunStatus.WAITING
            run.resumes_at = datetime.now(UTC) + timedelta(seconds=retry_after)
            log.info(
                "sync %s of connection %s waits %.0fs: %s", capability, connection_id,
                retry_after, type(exc).__name__,
            )  # fmt: skip
    except Exception as exc:
        session.rollback()
        _fail(run, exc)
        raise
    finally:
        save_tokens(session, connection_id, account)
        run.requests = before_requests + account.requests_made
        run.rate_limit_waits = before_waits + account.rate_limit_waits + int(rate_limited)
        run.fetched, run.written = stats.fetched, stats.written
        run.skipped, run.deleted = stats.skipped, stats.deleted
        run.duration_ms = (run.duration_ms or 0) + int((time.monotonic() - started) * 1000)
        if run.status != SyncRunStatus.WAITING:
            run.finished_at = datetime.now(UTC)
        session.add(run)
        session.commit()
    if retry_after is not None:
        # Keep what was done: the next message continues this run where it stopped.
        sync_capability.send_with_options(
            args=(connection_id, capability, location_id),
            kwargs={"start_at": resume_at, "run_id": run.id, "stalls": stalls},
            delay=int(retry_after * 1000),
        )
    return run


def _give_up(session: Session, run_id: int | None) -> None:
    """A paused run whose connection or capability can no longer sync ends as failed."""
    run = session.get(SyncRun, run_id) if run_id is not None else None
    if run is not None and run.status == SyncRunStatus.WAITING:
        _end(run, SyncRunStatus.FAILED, error_class="NotSyncable", at=datetime.now(UTC))
        session.commit()


def _end(run: SyncRun, status: str, *, error_class: str, at: datetime) -> None:
    run.status, run.error_class, run.finished_at, run.resumes_at = status, error_class, at, None


def _sync_location(
    session: Session, stream: Stream, connection: Connection, location: Location, stats: SyncStats
) -> None:
    checkpoint = session.get(Checkpoint, (location.id, stream.name)) or Checkpoint(
        location_id=location.id, capability=stream.name
    )
    session.add(checkpoint)
    now = datetime.now(UTC)
    full = (
        checkpoint.cursor is None
        or checkpoint.last_full_pass_at is None
        or (now - checkpoint.last_full_pass_at)
        > timedelta(seconds=get_settings().full_sync_interval_seconds)
    )
    cursor = None if full else datetime.fromisoformat(checkpoint.cursor)
    # A first pass has nothing to mark deleted; only later full passes track what they saw.
    track_seen = full and checkpoint.cursor is not None
    if track_seen:
        start_seen(session)
    # A location's first pass imports its history: that is not news for webhooks and alerts.
    announcing = checkpoint.last_full_pass_at is not None
    reading = stream.read(location.external_id, cursor)
    for page in reading.pages():
        stats.fetched += len(page.items) + page.skipped
        stats.skipped += page.skipped
        changes = upsert_items(
            session,
            organisation_id=connection.organisation_id,
            connection_id=connection.id,
            location_id=location.id,
            source=connection.provider,
            records=page.items,
        )
        stats.written += len(changes)
        if announcing:
            announce(session, organisation_id=connection.organisation_id, changes=changes)
        if track_seen:
            add_seen(session, page.seen_ids)
        session.commit()
    if track_seen:
        gone = mark_unseen_deleted(
            session, location_id=location.id, source=connection.provider, kind=stream.kind
        )
        stats.deleted += len(gone)
        announce(session, organisation_id=connection.organisation_id, changes=Changes(updated=gone))
    if full:
        checkpoint.last_full_pass_at = now
    if reading.new_cursor is not None and reading.new_cursor.isoformat() != checkpoint.cursor:
        checkpoint.cursor = reading.new_cursor.isoformat()
    session.commit()


def claim_sync(connection: Connection, now: datetime) -> None:
    """Mark a connection whose sync has just been enqueued as claimed for a lease, so that the
    scheduler does not enqueue it again while the message waits for a worker. The sync sets the
    next regular time when it starts; if the message is lost, the lease runs out and the
    scheduler enqueues it again."""
    settings = get_settings()
    lease = min(settings.sync_lease_seconds, settings.sync_interval_seconds)
    connection.next_sync_at = now + timedelta(seconds=lease)


def _schedule_next(connection: Connection) -> None:
    """Polling is the safety net of push: a connection the provider pushes to is polled less."""
    settings = get_settings()
    interval = (
        settings.push_sync_interval_seconds
        if connection.push_enabled
        else settings.sync_interval_seconds
    )
    connection.next_sync_at = datetime.now(UTC) + timedelta(seconds=interval)


def _try_lock(session: Session, connection_id: int, capability: str) -> bool:
    # A session-level advisory lock: it outlives the per-page commits of this run.
    return bool(
        session.scalar(
            text("SELECT pg_try_advisory_lock(hashtext(:key))"),
            {"key": f"sync:{connection_id}:{capability}"},
        )
    )


def _unlock(session: Session, connection_id: int, capability: str) -> None:
    session.execute(
        text("SELECT pg_advisory_unlock(hashtext(:key))"),
        {"key": f"sync:{connection_id}:{capability}"},
    )


def _active_locations(
    session: Session, connection_id: int, location_id: int | None, start_at: int | None
) -> list[Location]:
    query = select(Location).where(Location.connection_id == connection_id, Location.active)
    if location_id is not None:
        query = query.where(Location.id == location_id)
    if start_at is not None:
        query = query.where(Location.id >= start_at)
    return list(session.scalars(query.order_by(Location.id)))


def _locations_stale(connection: Connection) -> bool:
    listed = connection.locations_listed_at
    return listed is None or datetime.now(UTC) - listed > LOCATIONS_REFRESH


def _refresh_locations(session: Session, connection: Connection, account: ProviderAccount) -> None:
    """Add new locations, update names and tokens, deactivate the ones the grant no longer
    sees, and ask the provider to push changes where it can."""
    # Each capability's sync may find the list stale at once; one of them refreshes it.
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
        {"key": f"locations:{connection.id}"},
    )
    session.refresh(connection)
    if not _locations_stale(connection):
        session.commit()
        return
    known = {
        loc.external_id: loc
        for loc in session.scalars(select(Location).where(Location.connection_id == connection.id))
    }
    seen = set()
    for record in account.locations():
        seen.add(record.external_id)
        location = known.get(record.external_id) or Location(
            organisation_id=connection.organisation_id,
            connection_id=connection.id,
            provider=connection.provider,
            external_id=record.external_id,
        )
        location.name = record.name
        location.store_code = record.store_code
        location.new_review_uri = record.new_review_uri
        location.maps_uri = record.maps_uri
        if record.access_token is not None:
            location.access_token = record.access_token
        location.active = True
        session.add(location)
        if _subscribe(account, location):
            connection.push_enabled = True
    for external_id, location in known.items():
        if external_id not in seen:
            location.active = False
    connection.locations_listed_at = datetime.now(UTC)
    session.commit()


def _subscribe(account: ProviderAccount, location: Location) -> bool:
    try:
        return account.subscribe(location_ref(location))
    except errors.ProviderError as exc:
        # Without push the location is still polled; the reason is worth a line in the log.
        log.info("push not enabled for location %s: %s", location.external_id, exc)
        return False


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


@dramatiq.actor(actor_name="sync.capability", max_retries=8, time_limit=3_600_000)
def sync_capability(
    connection_id: int,
    capability: str,
    location_id: int | None = None,
    start_at: int | None = None,
    run_id: int | None = None,
    stalls: int = 0,
) -> None:
    sync(
        connection_id,
        capability,
        location_id,
        start_at=start_at,
        run_id=run_id,
        stalls=stalls,
        requested_at=_requested_at(),
    )


def _requested_at() -> datetime | None:
    """When the message being processed was sent; None for a retry or outside a worker (a
    retry is the same request again after a failure, not a new one)."""
    message = CurrentMessage.get_current_message()
    if message is None or message.options.get("retries"):
        return None
    return datetime.fromtimestamp(message.message_timestamp / 1000, UTC)
