"""The real scheduler tick follows the polling policy: due Google locations are polled once,
busy ones sooner, push ones rarely, within the quota's minute, shared between organisations,
behind the work that goes first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from models import Connection, ConnectionStatus, Location, Organisation, SyncRun, SyncRunStatus
from scheduler.loop import enqueue_due_polls, tick
from services.sync import due_polls, polling
from tests.support import this_runs_broker
from tests.test_scheduler import queued_for

# The last tick of a minute: the whole of what is left of the minute is this tick's. Each
# test has minutes of its own, as the quota's windows outlive a test.
LAST_TICK = datetime(2031, 1, 6, 9, 0, 55, tzinfo=UTC)


def last_tick(minutes_on: int) -> datetime:
    return LAST_TICK + timedelta(minutes=minutes_on)


def a_connection(db, name: str, *, push: bool = False) -> Connection:
    organisation = Organisation(name=name)
    db.add(organisation)
    db.flush()
    connection = Connection(
        organisation_id=organisation.id,
        provider="google",
        status=ConnectionStatus.ACTIVE,
        next_sync_at=LAST_TICK + timedelta(days=1),  # the daily walk is not what is due
        capabilities={"google_qanda": {"state": "disabled"}},
        push_enabled=push,
    )
    db.add(connection)
    db.flush()
    return connection


def a_location(db, connection: Connection, *, reviews_in_90_days: float, due: datetime) -> int:
    location = Location(
        organisation_id=connection.organisation_id,
        connection_id=connection.id,
        provider="google",
        external_id=f"accounts/1/locations/{connection.id}-{reviews_in_90_days}-{due.timestamp()}",
        reviews_seen=reviews_in_90_days,
        days_watched=90.0,
        next_poll_at=due,
    )
    db.add(location)
    db.flush()
    return location.id


def next_polls(db) -> dict[int, datetime]:
    db.expire_all()
    return {loc.id: loc.next_poll_at for loc in db.scalars(select(Location))}


def polled() -> list[tuple[int, int]]:
    return sorted((args[0], args[2]) for args in queued_for("sync.capability") if len(args) == 3)


def test_due_locations_are_polled_once_busy_ones_sooner_and_push_ones_rarely(db):
    this_runs_broker().flush_all()
    due_polls.forget_pace()
    shop, pushed = a_connection(db, "Shop"), a_connection(db, "Pushed", push=True)
    busy = a_location(db, shop, reviews_in_90_days=450, due=LAST_TICK)  # 5 a day
    quiet = a_location(db, shop, reviews_in_90_days=1, due=LAST_TICK - timedelta(hours=1))
    later = a_location(db, shop, reviews_in_90_days=450, due=LAST_TICK + timedelta(minutes=1))
    safety = a_location(db, pushed, reviews_in_90_days=450, due=LAST_TICK)
    # and enough other locations, not due, that the quota binds: polling every location at
    # the shortest interval would take more than 300 requests a minute
    others = a_connection(db, "Others")
    db.execute(
        Location.__table__.insert(),
        [
            {
                "organisation_id": others.organisation_id,
                "connection_id": others.id,
                "provider": "google",
                "external_id": f"accounts/2/locations/{i}",
                "name": "",
                "active": True,
                "reviews_seen": 1.0,
                "days_watched": 90.0,
                "next_poll_at": LAST_TICK + timedelta(hours=1),
            }
            for i in range(3000)
        ],
    )
    db.commit()

    # When the scheduler ticks, twice at the same moment
    result = tick(LAST_TICK)
    again = enqueue_due_polls(LAST_TICK)

    # Then each due location's poll was enqueued once, as the sync of that location
    assert result.polls == 3 and again == 0
    assert polled() == sorted([(shop.id, busy), (shop.id, quiet), (pushed.id, safety)])
    assert result.syncs == 0  # no connection-wide sync is due
    # And each moved on by the policy's interval: the busy one soonest, the push one latest
    waits = {
        loc: (at - LAST_TICK).total_seconds()
        for loc, at in next_polls(db).items()
        if loc in (busy, quiet, later, safety)
    }
    assert waits[busy] < waits[quiet] < waits[safety] == polling.PUSH_INTERVAL
    assert waits[later] == 60  # not due: untouched
    pace = due_polls.pace(db, now=LAST_TICK, requests_per_day=300 * 1440)
    db.rollback()
    assert waits[busy] == polling.interval(polling.review_rate(450, 90), False, pace)


def test_polls_stay_within_the_quota_and_are_shared_between_organisations(db, configure):
    now = last_tick(10)
    # Given a quota of 12 requests a minute, a chain with 30 due locations and a shop with 3
    this_runs_broker().flush_all()
    due_polls.forget_pace()
    configure(google_requests_per_minute=12)
    chain, shop = a_connection(db, "Chain"), a_connection(db, "Shop")
    for i in range(30):
        a_location(db, chain, reviews_in_90_days=i, due=now - timedelta(hours=2))
    shop_ids = {
        a_location(db, shop, reviews_in_90_days=i, due=now - timedelta(minutes=1)) for i in range(3)
    }
    db.commit()

    # When the scheduler ticks at the end of a minute, and again in the same minute
    first = enqueue_due_polls(now)
    same_minute = enqueue_due_polls(now + timedelta(seconds=2))

    # Then the minute's 12 requests were spent and not one more
    assert (first, same_minute) == (12, 0)
    # And the shop got its share (3 of 33 locations: at least one poll) although every
    # one of the chain's locations had waited longer
    sent = polled()
    assert len(sent) == 12
    assert 1 <= len(shop_ids & {loc for _, loc in sent}) <= 2

    # When the next minute starts, polling goes on where it stopped
    assert enqueue_due_polls(now + timedelta(seconds=60)) > 0


def test_a_sync_now_under_way_goes_before_background_polls(db, configure):
    now = last_tick(20)
    # Given a quota of 12 a minute, a connection-wide sync of 10 locations under way (as
    # "sync now" starts one) and 8 other locations due
    this_runs_broker().flush_all()
    due_polls.forget_pace()
    configure(google_requests_per_minute=12)
    walking, other = a_connection(db, "Walking"), a_connection(db, "Other")
    for i in range(10):
        a_location(db, walking, reviews_in_90_days=i, due=now + timedelta(hours=1))
    for i in range(8):
        a_location(db, other, reviews_in_90_days=i, due=now - timedelta(hours=1))
    db.add(
        SyncRun(
            connection_id=walking.id,
            capability="google_reviews",
            status=SyncRunStatus.RUNNING,
            started_at=now,
            errors=[],
        )
    )
    db.commit()

    # When the scheduler ticks
    # Then only what the sync leaves of the minute goes to polls
    assert enqueue_due_polls(now) == 2

    # And once it is done, the polls have the quota again (the next minute)
    db.execute(SyncRun.__table__.update().values(status=SyncRunStatus.SUCCEEDED))
    db.commit()
    assert enqueue_due_polls(now + timedelta(seconds=60)) == 6
