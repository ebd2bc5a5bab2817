"""Syncing a connection's capability into the items table, one location at a time.

Each page is committed as it arrives, so a crash loses at most one page of work; the cursor
moves only after a complete pass (see ``connectors.base.IncrementalPass``).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import dramatiq
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
)
from models.db import get_engine
from plaudit.settings import get_settings
from workers.accounts import location_ref, mark_needs_reauth, open_account, save_tokens
from workers.item_events import Changes, announce
from workers.upsert import add_seen, mark_unseen_deleted, start_seen, upsert_items

log = logging.getLogger(__name__)
LOCATIONS_REFRESH = timedelta(hours=24)


class SyncStats:
    def __init__(self) -> None:
        self.fetched = self.written = self.skipped = self.deleted = 0


def sync(
    connection_id: int,
    capability: str,
    location_id: int | None = None,
    *,
    start_at: int | None = None,
) -> SyncRun | None:
    """Run one sync, of every location or (after a push) of one; returns its record, or None
    when there was nothing to sync. ``start_at`` continues a sync a rate limit interrupted,
    from that location on, so that a quota smaller than the locations still gets through."""
    engine = get_engine()
    # One database connection for the whole run: the full pass keeps seen ids in a temp table.
    # Everything goes through the session, so that its commits are the connection's commits.
    with engine.connect() as dbconn, Session(bind=dbconn, expire_on_commit=False) as session:
        connection = session.get(Connection, connection_id)
        if connection is None or connection.status != ConnectionStatus.ACTIVE:
            return None
        account = open_account(connection)
        if capability not in account.streams:
            raise ValueError(f"unknown capability {capability!r} for {connection.provider}")
        if not account.enabled(capability):
            return None
        if connection.capability_state(capability) != CapabilityState.AVAILABLE:
            return None
        if not _try_lock(session, connection_id, capability):
            if location_id is not None:
                # The running sync may already be past this location: look again shortly.
                raise dramatiq.Retry("a sync of this connection is running", delay=2000)
            return None  # a duplicate message: another worker is syncing this right now
        scheduled = location_id is None and start_at is None
        if scheduled:
            _schedule_next(connection)
        run = SyncRun(connection_id=connection_id, capability=capability)
        session.add(run)
        session.commit()
        started = time.monotonic()
        stats = SyncStats()
        retry_after: float | None = None
        resume_at: int | None = None  # the location a rate limit stopped at, after progress
        done = 0
        try:
            if _locations_stale(connection):
                _refresh_locations(session, connection, account)
                if scheduled:
                    _schedule_next(connection)  # push may have just been turned on
            for location in _active_locations(session, connection_id, location_id, start_at):
                resume_at = location.id if done else None
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
            run.status = "partial" if run.errors else "succeeded"
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
            _fail(run, exc)
            retry_after = exc.retry_after or 5.0
        except Exception as exc:
            session.rollback()
            _fail(run, exc)
            raise
        finally:
            _unlock(session, connection_id, capability)
            save_tokens(session, connection_id, account)
            run.requests = account.requests_made
            run.fetched, run.written = stats.fetched, stats.written
            run.skipped, run.deleted = stats.skipped, stats.deleted
            run.finished_at = datetime.now(UTC)
            run.duration_ms = int((time.monotonic() - started) * 1000)
            session.add(run)
            session.commit()
        if retry_after is not None and resume_at is not None:
            # Keep what was done: the next message starts where this one stopped.
            sync_capability.send_with_options(
                args=(connection_id, capability, location_id),
                kwargs={"start_at": resume_at},
                delay=int(retry_after * 1000),
            )
            return run
        if retry_after is not None:
            # Wait out the provider's window in the broker, not in this thread.
            raise dramatiq.Retry(
                f"provider asked to wait {retry_after:.0f}s", delay=int(retry_after * 1000)
            )
        return run


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
        run.status = "failed"
    entry = {"type": type(exc).__name__, "message": str(exc)[:500], "location": location}
    run.errors = [*run.errors, entry]
    log.warning("sync %s of connection %s: %s", run.capability, run.connection_id, exc)


@dramatiq.actor(actor_name="sync.capability", max_retries=8, time_limit=3_600_000)
def sync_capability(
    connection_id: int, capability: str, location_id: int | None = None, start_at: int | None = None
) -> None:
    sync(connection_id, capability, location_id, start_at=start_at)
