"""One location's pass over one capability: pages upserted and committed as they arrive, the
cursor moved only after a complete pass (see ``connectors.passes.IncrementalPass``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors import errors
from connectors.base import Stream
from connectors.records import ItemRecord, MalformedRecord, Page
from core.settings import get_settings
from models import Checkpoint, Connection, Item, Location, SyncRun
from services.items.events import Changes, announce
from services.items.upsert import (
    add_seen,
    mark_unseen_deleted,
    start_seen,
    unseen,
    upsert_items,
)
from services.sync import polling
from services.sync.read_ahead import ReadAhead

# What a location's first pass imports tells its review rate: its reviews of this long ago.
HISTORY = timedelta(days=90)

# Rows a statement and a commit carry during a pass (twenty pages of Google's 50).
BATCH_ROWS = 1000
# Look-ups a full pass makes for records its listing did not show; what is beyond it is kept,
# not deleted, and looked up by a later full pass (a listing missing this many is an outage).
MAX_LOOK_UPS = 200


class SyncStats:
    def __init__(self, run: SyncRun) -> None:
        # A continued run carries on counting from where it paused.
        self.fetched, self.written = run.fetched or 0, run.written or 0
        self.skipped, self.deleted = run.skipped or 0, run.deleted or 0
        self.reconciled = run.reconciled or 0

    def book(self, run: SyncRun) -> None:
        run.fetched, run.written = self.fetched, self.written
        run.skipped, run.deleted = self.skipped, self.deleted
        run.reconciled = self.reconciled


@dataclass
class Bookmark:
    """Where a pass stopped inside a location, for a pass the provider stopped (a rate limit):
    given, the pass carries on from there; after the stop, where the next message carries on
    (None: from the top, for listings whose page tokens cannot be resumed)."""

    position: dict[str, Any] | None = None


def sync_location(
    session: Session,
    stream: Stream,
    connection: Connection,
    location: Location,
    stats: SyncStats,
    bookmark: Bookmark | None = None,
) -> None:
    resume = bookmark.position if bookmark is not None else None
    checkpoint = session.get(Checkpoint, (location.id, stream.name)) or Checkpoint(
        location_id=location.id, capability=stream.name
    )
    session.add(checkpoint)
    now = datetime.now(UTC)
    full = _full_pass_due(checkpoint, now)
    cursor = None if full else datetime.fromisoformat(checkpoint.cursor)
    # A first pass has nothing to mark deleted; only later full passes track what they saw. A
    # resumed one cannot (what it saw before the pause is gone): the next pass is full again.
    resumed_full = full and checkpoint.cursor is not None and resume is not None
    track_seen = full and checkpoint.cursor is not None and not resumed_full
    if track_seen:
        start_seen(session)
    # A location's first pass imports its history: that is not news for webhooks and alerts.
    announcing = checkpoint.last_full_pass_at is not None
    reading = stream.read(location.external_id, cursor, resume)
    batch = _Batch(session, connection, location, stats, announcing=announcing, seen=track_seen)
    try:
        # The next pages are read while the last ones are written (see read_ahead).
        with ReadAhead(reading.pages()) as pages:
            for page in pages:
                stats.fetched += len(page.items) + page.skipped
                stats.skipped += page.skipped
                batch.add(page)
    except errors.ProviderError:
        batch.flush()  # what was read before the provider stopped us is kept
        if bookmark is not None:
            bookmark.position = getattr(reading, "position", None)  # and the rest follows
        raise
    batch.flush()
    if track_seen and stream.reconciles:
        _reconcile(session, stream, connection, location, stats, batch)
    if track_seen:
        gone = mark_unseen_deleted(
            session, location_id=location.id, source=connection.provider, kind=stream.kind
        )
        stats.deleted += len(gone)
        announce(session, organisation_id=connection.organisation_id, changes=Changes(updated=gone))
    if full and not resumed_full:
        checkpoint.last_full_pass_at = now
    if reading.new_cursor is not None and reading.new_cursor.isoformat() != checkpoint.cursor:
        checkpoint.cursor = reading.new_cursor.isoformat()
    if stream.kind == "review":
        _record_poll(session, location, found=batch.found, history=not announcing, now=now)
    session.commit()


class _Batch:
    """Pages gathered into one statement and one commit of up to ``BATCH_ROWS`` rows: a
    statement's fixed cost (planning, the round trip, the commit's flush) spread over many
    rows. The cursor still moves only after the whole pass, so a crash costs a re-read of the
    batch in flight, which the idempotent upsert makes harmless."""

    def __init__(
        self,
        session: Session,
        connection: Connection,
        location: Location,
        stats: SyncStats,
        *,
        announcing: bool,
        seen: bool,
    ) -> None:
        self.session, self.connection, self.location, self.stats = (
            session, connection, location, stats,
        )  # fmt: skip
        self.announcing, self.seen = announcing, seen
        self.records: list[ItemRecord] = []
        self.seen_ids: list[str] = []
        self.found = 0  # new reviews: what the polling policy learns the location's rate from

    def add(self, page: Page) -> None:
        self.records.extend(page.items)
        if self.seen:
            self.seen_ids.extend(page.seen_ids)
        if len(self.records) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.records and not self.seen_ids:
            return
        connection = self.connection
        changes = upsert_items(
            self.session,
            organisation_id=connection.organisation_id,
            connection_id=connection.id,
            location_id=self.location.id,
            source=connection.provider,
            records=self.records,
        )
        self.stats.written += len(changes)
        self.found += len(changes.created)
        if self.announcing:
            announce(self.session, organisation_id=connection.organisation_id, changes=changes)
        if self.seen:
            add_seen(self.session, self.seen_ids)
        self.session.commit()
        self.records, self.seen_ids = [], []


def _record_poll(
    session: Session, location: Location, *, found: int, history: bool, now: datetime
) -> None:
    """What the scheduler's policy learns from this read of the location: its review rate (a
    first pass counts the history it imported), and, the first time, a first due time."""
    if history:
        recent = select(func.count(Item.id)).where(
            Item.location_id == location.id,
            Item.kind == "review",
            Item.posted_at >= now - HISTORY,
        )
        location.reviews_seen = float(session.scalar(recent) or 0)
        location.days_watched = HISTORY.total_seconds() / polling.DAY
    else:
        elapsed = (now - location.polled_at).total_seconds() if location.polled_at else 0.0
        location.reviews_seen, location.days_watched = polling.observe(
            location.reviews_seen, location.days_watched, found, elapsed / polling.DAY
        )
    location.polled_at = now
    if location.next_poll_at is None:
        # Until the scheduler has claimed it once, the regular interval.
        location.next_poll_at = now + timedelta(seconds=get_settings().sync_interval_seconds)


def _reconcile(
    session: Session,
    stream: Stream,
    connection: Connection,
    location: Location,
    stats: SyncStats,
    batch: _Batch,
) -> None:
    """What the listing did not show is looked up before it is called deleted: found, it is
    stored (and counted as found only through reconciliation); answered "not found", it is
    deleted with the other unseen ones."""
    missing = unseen(session, location_id=location.id, source=connection.provider, kind=stream.kind)
    batch.seen_ids.extend(missing[MAX_LOOK_UPS:])
    for external_id in missing[:MAX_LOOK_UPS]:
        try:
            record = stream.look_up(location.external_id, external_id)
        except errors.ProviderError:
            batch.flush()  # what was found so far is kept; nothing is marked deleted
            raise
        if record is None:
            continue
        batch.seen_ids.append(external_id)
        try:
            batch.records.append(stream.parse(record))
            stats.reconciled += 1
        except MalformedRecord:
            stats.skipped += 1
    batch.flush()


def _full_pass_due(checkpoint: Checkpoint, now: datetime) -> bool:
    """A first pass, or the periodic full pass that finds what the provider deleted."""
    return (
        checkpoint.cursor is None
        or checkpoint.last_full_pass_at is None
        or (now - checkpoint.last_full_pass_at)
        > timedelta(seconds=get_settings().full_sync_interval_seconds)
    )
