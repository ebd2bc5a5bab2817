"""The polling policy's rules, as pure functions of the state, the clock and the quota."""

from __future__ import annotations

import math
import random

from services.sync import polling
from services.sync.polling import Candidate


def test_a_busy_location_is_polled_sooner_than_a_quiet_one():
    pace = polling.pace(polling.histogram([(5.0, False)] * 1000 + [(0.01, False)] * 9000), 432_000)

    busy, quiet = polling.interval(5.0, False, pace), polling.interval(0.01, False, pace)

    assert polling.MIN_INTERVAL <= busy < quiet <= polling.MAX_INTERVAL
    assert quiet > 3 * busy


def test_a_push_location_is_polled_only_as_a_safety_net():
    pace = polling.pace(polling.histogram([(5.0, True), (0.01, False)]), 432_000)

    assert polling.interval(5.0, True, pace) == polling.PUSH_INTERVAL
    assert polling.interval(5.0, True, pace) > polling.interval(0.01, False, pace)


def test_the_pace_spends_the_quota_and_no_more():
    bins = polling.histogram([(0.01 * (i % 50 + 1), i % 3 == 0) for i in range(10_000)])
    per_day = 300 * 1440

    pace = polling.pace(bins, per_day)

    planned = polling.polls_per_day(bins, pace)
    assert 0.9 * polling.UTILISATION * per_day < planned <= polling.UTILISATION * per_day
    # A smaller quota stretches every interval that is not already at its bound
    assert polling.pace(bins, per_day / 2) > pace


def test_what_a_poll_finds_moves_the_rate_and_old_observations_fade():
    quiet = polling.review_rate(0.0, 90.0)
    seen, days = polling.observe(0.0, 90.0, found=6, elapsed_days=1.0)
    assert polling.review_rate(seen, days) > 10 * quiet
    # Two months of nothing afterwards bring it most of the way back down
    later = polling.observe(seen, days, found=0, elapsed_days=60.0)
    assert polling.review_rate(*later) < polling.review_rate(seen, days) / 3


def test_under_contention_each_organisation_gets_its_share():
    chain = [Candidate(i, 1, due_at=float(i)) for i in range(100)]
    shop = [Candidate(1000 + i, 2, due_at=50.0 + i) for i in range(2)]

    equal = polling.plan(chain + shop, 10)
    weighted = polling.plan(chain + shop, 10, shares={1: 4.0, 2: 1.0})

    # The shop's two locations are polled although the chain's have waited longer
    assert sorted(c.location_id for c in equal if c.organisation_id == 2) == [1000, 1001]
    # and the chain's are taken longest overdue first
    assert [c.location_id for c in equal if c.organisation_id == 1] == list(range(8))
    # With shares 4:1 the chain gets four polls for the shop's one, until the shop runs out
    assert sum(c.organisation_id == 1 for c in weighted) == 8
    assert len(equal) == len(weighted) == 10


def test_work_that_goes_first_is_reserved_before_background_polls():
    free = polling.budget(quota=300, used=0, reserved=0, now=55.0, tick_seconds=5)
    behind_a_sync_now = polling.budget(quota=300, used=0, reserved=280, now=55.0, tick_seconds=5)
    all_taken = polling.budget(quota=300, used=100, reserved=250, now=55.0, tick_seconds=5)

    assert (free, behind_a_sync_now, all_taken) == (300, 20, 0)


def test_the_quota_is_never_exceeded_in_a_minute_and_is_spread_through_it():
    for reserved in (0, 37, 299, 400):
        used, spent = 0, []
        for second in range(0, 60, 5):
            allowed = polling.budget(
                quota=300, used=used + reserved, reserved=0, now=6000.0 + second, tick_seconds=5
            )
            spent.append(allowed)
            used += allowed
        assert used + min(reserved, 300) <= 300
        assert used == max(0, 300 - reserved)  # and what is left is used
        if reserved == 0:
            assert max(spent) <= 30  # paced through the minute, not spent at its start


def a_deployment_like_the_bench(seed: int = 0) -> list[tuple[float, bool]]:
    """10,000 locations: 75 % under a review a month, 3 % over five a day, 30 % with push."""
    rng = random.Random(seed)
    locations = []
    for i in range(10_000):
        kind = rng.random()
        low, high = (0.003, 1 / 30) if kind < 0.75 else (1 / 30, 5) if kind < 0.97 else (5, 20)
        locations.append((math.exp(rng.uniform(math.log(low), math.log(high))), i % 10 < 3))
    return locations


def test_the_floor_gives_the_busiest_locations_polls_to_the_slow_ones(monkeypatch):
    # Given Google's quota over 10,000 locations, most of them quiet
    bins = polling.histogram(a_deployment_like_the_bench())
    pace = polling.pace(bins, 300 * 1440)

    # Then every location with a review a day or more sits at the floor, and one with a review
    # every ten days (a chain's typical location) is polled within 3x as often as the
    # busiest: the fairness between organisations rests on this ratio
    assert polling.interval(20.0, False, pace) == polling.interval(1.0, False, pace)
    assert polling.interval(0.1, False, pace) <= 3 * polling.interval(20.0, False, pace)

    # Whereas with the old floor of 5 minutes the busiest took the polls and the ratio was 5x
    monkeypatch.setattr(polling, "MIN_INTERVAL", 300.0)
    old = polling.pace(bins, 300 * 1440)
    assert polling.interval(0.1, False, old) > 5 * polling.interval(20.0, False, old)
