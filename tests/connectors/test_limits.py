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
