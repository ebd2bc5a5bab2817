"""Analytics' rollups follow every write to items — the sync's bulk upsert, replies, removed
replies, deletion, the workflow, erasure, retention, an organisation's deletion — and the report
read from them equals the one computed from the items (reply times within 5 %)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.orm import Session

from connectors.records import ItemRecord
from models import Connection, Item, Organisation, Role
from services.inbox import analytics
from services.inbox.inbox import InboxFilters
from services.items.upsert import upsert_items
from services.privacy.retention import erase_expired
from services.privacy.subject_requests import erase
from services.scope import Scope

START = datetime(2025, 1, 1, tzinfo=UTC)


def _world(db: Session, name: str, count: int, seed: int) -> tuple[Organisation, Connection]:
    """``count`` reviews and feedback over 60 days at every hour, half replied after a spread
    of delays, some without a rating, some deleted, some replies removed since."""
    rng = random.Random(seed)
    organisation = Organisation(name=name)
    db.add(organisation)
    db.flush()
    connection = Connection(organisation_id=organisation.id, provider="google")
    db.add(connection)
    db.flush()
    for n in range(count):
        posted = START + timedelta(hours=rng.randrange(60 * 24), seconds=rng.randrange(3600))
        replied = rng.random() < 0.5
        delay = timedelta(seconds=rng.choice((0.3, 5, 90, 3600, 86_400 * 3)) * rng.uniform(1, 9))
        db.add(
            Item(
                organisation_id=organisation.id,
                connection_id=connection.id if n % 5 else None,
                source="google" if n % 5 else "plaudit",
                kind="review" if n % 5 else "feedback",
                external_id=f"{name}-{n}",
                rating=None if n % 11 == 0 else rng.randint(1, 5),
                posted_at=posted,
                reply_text="Thanks" if replied else None,
                reply_updated_at=posted + delay if replied or n % 13 == 0 else None,
                deleted=n % 17 == 0,
            )
        )
    db.flush()
    return organisation, connection


def _owner(organisation: Organisation) -> Scope:
    return Scope(organisation_id=organisation.id, role=Role.OWNER, user_id=0)


def _rollups_match_items(db: Session) -> None:
    """Every organisation's rollup rows are what a fresh count of its items gives."""
    counted = db.execute(
        text(
            "SELECT organisation_id, (posted_at AT TIME ZONE 'UTC')::date, coalesce(rating, 0),"
            " deleted, count(*), count(reply_text) FROM items GROUP BY 1, 2, 3, 4"
        )
    ).all()
    kept = db.execute(
        text(
            "SELECT organisation_id, day, rating, deleted, items, replied FROM analytics_days"
            " WHERE items <> 0 OR replied <> 0"
        )
    ).all()
    assert sorted(kept) == sorted(counted)
    timed = db.execute(
        text(
            "SELECT organisation_id, (posted_at AT TIME ZONE 'UTC')::date, deleted, count(*)"
            " FROM items WHERE reply_updated_at IS NOT NULL GROUP BY 1, 2, 3"
        )
    ).all()
    bucketed = db.execute(
        text(
            "SELECT organisation_id, day, deleted, sum(items) FROM analytics_reply_times"
            " GROUP BY 1, 2, 3 HAVING sum(items) <> 0"
        )
    ).all()
    assert sorted(bucketed) == sorted(timed)


def _report_matches_the_items(db: Session, organisation: Organisation, **filters) -> None:
    scope = _owner(organisation)
    for period in analytics.Period:
        chosen = InboxFilters(**filters)
        rolled = analytics.report(db, scope=scope, filters=chosen, period=period)
        exact = analytics.exact_report(db, scope=scope, filters=chosen, period=period)
        assert rolled.reply_times_estimated and not exact.reply_times_estimated
        assert rolled.series == exact.series
        assert rolled.rating_distribution == exact.rating_distribution
        assert (rolled.total, rolled.replied, rolled.reply_rate) == (
            exact.total,
            exact.replied,
            exact.reply_rate,
        )
        for estimate, truth in (
            (rolled.median_seconds_to_reply, exact.median_seconds_to_reply),
            (rolled.p90_seconds_to_reply, exact.p90_seconds_to_reply),
        ):
            if truth is None:
                assert estimate is None
            else:
                assert estimate == pytest.approx(truth, rel=0.05, abs=1)


def test_the_report_from_rollups_equals_the_items_for_whole_days_and_deleted_items(db: Session):
    mine, _ = _world(db, "mine", 600, seed=1)
    _world(db, "theirs", 200, seed=2)

    _rollups_match_items(db)
    _report_matches_the_items(db, mine)
    _report_matches_the_items(db, mine, include_deleted=True)
    _report_matches_the_items(db, mine, since=date(2025, 1, 10), until=date(2025, 2, 3))
    _report_matches_the_items(db, mine, since=START + timedelta(days=20))


def test_other_filters_and_limited_callers_are_answered_from_the_items(db: Session):
    mine, _ = _world(db, "mine", 50, seed=3)
    limited = Scope(organisation_id=mine.id, role=Role.MANAGER, user_id=0, location_ids=())
    odd_hour = InboxFilters(since=START + timedelta(hours=5))
    for scope, filters in (
        (_owner(mine), InboxFilters(source="google")),
        (_owner(mine), InboxFilters(min_rating=3)),
        (_owner(mine), odd_hour),
        (limited, InboxFilters()),
    ):
        report = analytics.report(db, scope=scope, filters=filters, period=analytics.Period.DAY)
        assert not report.reply_times_estimated
        assert report == analytics.exact_report(
            db, scope=scope, filters=filters, period=analytics.Period.DAY
        )


def test_rollups_follow_upserts_replies_removals_deletions_and_workflow(db: Session):
    mine, connection = _world(db, "mine", 300, seed=4)

    # The sync's bulk upsert: new items, and changed ones (a reply, a new rating, a move in time)
    records = [
        ItemRecord(
            kind="review",
            external_id=f"mine-{n}" if n % 2 else f"new-{n}",
            posted_at=START + timedelta(days=n % 40, minutes=n),
            rating=1 + n % 5,
            reply_text="Thank you" if n % 3 else None,
            reply_updated_at=START + timedelta(days=n % 40, hours=2) if n % 3 else None,
        )
        for n in range(1, 120)
    ]
    upsert_items(
        db,
        organisation_id=mine.id,
        connection_id=connection.id,
        location_id=None,
        source="google",
        records=records,
    )
    _rollups_match_items(db)

    # A reply posted, a reply removed (its time stays), items deleted at the provider
    db.execute(
        update(Item)
        .where(Item.reply_text.is_(None), Item.id % 3 == 0)
        .values(reply_text="Later", reply_updated_at=Item.posted_at + timedelta(days=1))
    )
    db.execute(
        update(Item).where(Item.reply_text.is_not(None), Item.id % 7 == 0).values(reply_text=None)
    )
    db.execute(update(Item).where(Item.id % 5 == 1).values(deleted=True))
    # The workflow changes nothing the rollups count
    db.execute(update(Item).values(status="closed", tags=["staff"]))
    _rollups_match_items(db)
    _report_matches_the_items(db, mine)


def test_rollups_follow_erasure_retention_and_an_organisations_deletion(db: Session):
    mine, _ = _world(db, "mine", 300, seed=5)
    theirs, _ = _world(db, "theirs", 100, seed=6)

    # A subject's erasure: their first-party feedback goes, their reviews are anonymised
    db.execute(update(Item).where(Item.id % 4 == 0).values(author_external_id="subject-1"))
    erase(db, organisation_id=mine.id, reviewer_id="subject-1")
    _rollups_match_items(db)
    _report_matches_the_items(db, mine)

    # Retention, far in the future: every first-party item is past its time
    erase_expired(db, now=START + timedelta(days=365 * 30))
    _rollups_match_items(db)
    _report_matches_the_items(db, mine)

    # The organisation goes, and its items with it
    db.execute(delete(Organisation).where(Organisation.id == theirs.id))
    _rollups_match_items(db)
    _report_matches_the_items(db, mine)
