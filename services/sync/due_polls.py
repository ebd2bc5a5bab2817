"""The state the polling policy decides on, read from PostgreSQL, and the claim of its decision.

``services.sync.polling`` decides; this module gives it the due Google locations, the pace of
the whole deployment, the organisations' shares and the work that goes first, and claims the
locations it picked: each claimed location's ``next_poll_at`` moves on by its interval in the
transaction that enqueues its poll, under ``FOR UPDATE SKIP LOCKED``, so two schedulers never
poll it twice. A poll is the sync of that one location (the message push already sends), so
its run is recorded as any other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from connectors.google.reviews import GoogleReviews
from models import (
    CapabilityState,
    Connection,
    ConnectionStatus,
    Item,
    Location,
    Reply,
    ReplyStatus,
    SyncRun,
    SyncRunStatus,
)
from services.jobs import send_after_commit
from services.sync import polling
from services.sync.run import SYNC

CAPABILITY = GoogleReviews.name
# The pace reads every Google location; once a minute is enough to follow their rates.
PACE_SECONDS = 60.0
_pace_lock = threading.Lock()
_pace: tuple[float, float, float] | None = None  # (computed at, for requests a day, pace)


def _pollable() -> Select[tuple[Location, Connection]]:
    return (
        select(Location, Connection)
        .join(Connection, Connection.id == Location.connection_id)
        .where(
            Location.provider == "google",
            Location.active,
            Connection.status == ConnectionStatus.ACTIVE,
        )
    )


def due(session: Session, *, now: datetime, limit: int) -> list[polling.Candidate]:
    """The Google locations whose poll is due, the longest overdue first."""
    rows = session.execute(
        select(Location.id, Location.organisation_id, Location.next_poll_at)
        .join(Connection, Connection.id == Location.connection_id)
        .where(
            Location.provider == "google",
            Location.active,
            Location.next_poll_at <= now,
            Connection.status == ConnectionStatus.ACTIVE,
        )
        .order_by(Location.next_poll_at)
        .limit(limit)
    ).all()
    return [polling.Candidate(id_, org, at.timestamp()) for id_, org, at in rows]


def pace(session: Session, *, now: datetime, requests_per_day: float) -> float:
    """The policy's pace for every active Google location, recomputed at most once a minute
    per process (the rates move over days, not seconds)."""
    global _pace
    with _pace_lock:
        at = time.monotonic()
        if _pace is not None and _pace[1] == requests_per_day and at - _pace[0] < PACE_SECONDS:
            return _pace[2]
        rows = session.execute(
            select(Location.reviews_seen, Location.days_watched, Connection.push_enabled)
            .join(Connection, Connection.id == Location.connection_id)
            .where(
                Location.provider == "google",
                Location.active,
                Connection.status == ConnectionStatus.ACTIVE,
            )
        ).all()
        bins = polling.histogram(
            (polling.review_rate(seen, days), push) for seen, days, push in rows
        )
        value = polling.pace(bins, requests_per_day)
        _pace = (at, requests_per_day, value)
        return value


def forget_pace() -> None:
    """Recompute the pace at the next tick (the locations changed under a test)."""
    global _pace
    with _pace_lock:
        _pace = None


def shares(session: Session, organisation_ids: Sequence[int]) -> dict[int, float]:
    """Each organisation's share of the polls: its number of active Google locations."""
    rows = session.execute(
        select(Location.organisation_id, func.count(Location.id))
        .where(
            Location.provider == "google",
            Location.active,
            Location.organisation_id.in_(list(organisation_ids)),
        )
        .group_by(Location.organisation_id)
    ).all()
    return {organisation_id: float(count) for organisation_id, count in rows}


def reserved(session: Session) -> int:
    """Requests the work that goes before background polls is about to spend: Google replies
    waiting to go out, and the locations of connection-wide syncs ("sync now", the first sync,
    the daily walk) under way."""
    replies = session.scalar(
        select(func.count(Reply.id))
        .join(Item, Item.id == Reply.item_id)
        .where(
            Reply.status.in_([ReplyStatus.PENDING, ReplyStatus.SENDING]), Item.source == "google"
        )
    )
    walking = (
        select(SyncRun.connection_id)
        .where(
            SyncRun.status.in_([SyncRunStatus.RUNNING, SyncRunStatus.WAITING]),
            SyncRun.location_id.is_(None),
            SyncRun.capability == CAPABILITY,
        )
        .scalar_subquery()
    )
    locations = session.scalar(
        select(func.count(Location.id)).where(Location.active, Location.connection_id.in_(walking))
    )
    return int(replies or 0) + int(locations or 0)


def claim(session: Session, *, location_ids: Sequence[int], now: datetime, pace: float) -> int:
    """Claim the chosen locations still due and not claimed by another scheduler: move each
    on by its interval and send its poll after commit. Returns the polls sent."""
    rows = session.execute(
        _pollable()
        .where(Location.id.in_(list(location_ids)), Location.next_poll_at <= now)
        .order_by(Location.id)
        .with_for_update(of=Location, skip_locked=True)
    ).tuples()
    sent = 0
    for location, connection in rows:
        rate = polling.review_rate(location.reviews_seen, location.days_watched)
        wait = polling.interval(rate, connection.push_enabled, pace)
        location.next_poll_at = now + timedelta(seconds=wait)
        if connection.capability_state(CAPABILITY) == CapabilityState.AVAILABLE:
            send_after_commit(session, SYNC, connection.id, CAPABILITY, location.id)
            sent += 1
    return sent
