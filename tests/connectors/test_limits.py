"""The shared limiter on its real back-ends: Redis (the broker's) and PostgreSQL."""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from connectors.errors import RateLimited
from connectors.limits import RedisCounter, WindowLimiter
from core.settings import get_settings
from services.sync.limits import PostgresCounter


@pytest.fixture(params=["redis", "postgresql"])
def counter(request, db):
    if request.param == "redis":
        return RedisCounter(redis.Redis.from_url(get_settings().broker_url), uuid.uuid4().hex)
    return PostgresCounter()


def test_a_window_admits_the_quota_then_waits_for_the_next_one(counter):
    # Given 5 requests per 1-second window
    limiter = WindowLimiter(counter, uuid.uuid4().hex, 5, window_seconds=1.0)
    started = time.monotonic()

    # When 12 requests go out
    for _ in range(12):
        limiter.acquire()

    # Then they needed three windows: more than one full second of waiting
    assert time.monotonic() - started > 1.0


def test_a_long_wait_is_handed_back_as_rate_limited_with_the_time_to_wait(counter):
    # Given the first second of a minute window, and a quota of 2 a minute
    limiter = WindowLimiter(counter, uuid.uuid4().hex, 2, clock=lambda: 6_000_001.0)
    limiter.acquire()
    limiter.acquire()

    with pytest.raises(RateLimited) as refused:
        limiter.acquire()

    assert refused.value.retry_after == pytest.approx(59.0)


class Counting:
    """The real counter, and how many round trips went to it."""

    def __init__(self, counter) -> None:
        self.counter, self.calls = counter, 0

    def increment(self, key: str, window: int, ttl_seconds: int, amount: int = 1) -> int:
        self.calls += 1
        return self.counter.increment(key, window, ttl_seconds, amount)


def test_limiters_claiming_blocks_ask_the_counter_less_and_never_exceed_the_quota(counter):
    # Given two processes' limiters on one key, claiming 4 requests a round trip, quota 10
    counting = Counting(counter)
    key = uuid.uuid4().hex
    clock = lambda: 6_000_001.0  # noqa: E731  (one moment, early in a minute window)
    limiters = [WindowLimiter(counting, key, 10, block=4, clock=clock) for _ in range(2)]

    # When each sends 4 requests
    for limiter in limiters:
        for _ in range(4):
            limiter.acquire()

    # Then that took one round trip each
    assert counting.calls == 2

    # And the next block is cut to what is left of the quota: 2 more, then both are refused
    limiters[0].acquire()
    limiters[0].acquire()
    for limiter in limiters:
        with pytest.raises(RateLimited):
            limiter.acquire()
    assert counting.calls == 5


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_pacer_spreads_writes_so_no_sliding_window_holds_more_than_the_limit(counter):
    from connectors.limits import Pacer

    clock = Clock(7_000_000.0)
    pacer = Pacer(counter, uuid.uuid4().hex, 10, window_seconds=60.0, clock=clock)
    sent: list[float] = []
    while len(sent) < 25:
        wait = pacer.reserve()
        if wait == 0:
            sent.append(clock.now)
        clock.now += 0.5 if wait == 0 else wait
    for i, at in enumerate(sent):
        assert sum(1 for other in sent[i:] if other < at + 60.0) <= 10


def test_a_pacer_lets_a_burst_through_then_spreads_the_rest_without_waiting(counter):
    from connectors.limits import Pacer

    clock = Clock(7_000_000.0)
    pacer = Pacer(counter, uuid.uuid4().hex, 3, window_seconds=12.0, clock=clock)  # 2 s slices
    waits = [pacer.reserve() for _ in range(7)]
    assert waits[:3] == [0, 0, 0]
    assert all(0 < w <= 14.0 for w in waits[3:6])
    assert waits[6] >= 12.0 + waits[3]  # the fourth turned away comes a window later
    assert clock.now == 7_000_000.0  # nothing slept


def test_a_pacer_backs_off_a_whole_window_after_a_refusal_for_its_key_only(counter):
    from connectors.limits import Pacer

    clock = Clock(7_000_000.0)
    key = uuid.uuid4().hex
    pacer = Pacer(counter, key, 10, window_seconds=60.0, clock=clock)
    other = Pacer(counter, key + "-other", 10, window_seconds=60.0, clock=clock)
    assert pacer.back_off() == 70.0
    clock.now += 30.0
    assert pacer.reserve() > 0
    assert other.reserve() == 0
    clock.now += 45.0
    assert pacer.reserve() == 0
