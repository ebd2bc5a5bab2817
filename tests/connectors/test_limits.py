"""The shared limiter on its real back-ends: Redis (the broker's) and PostgreSQL."""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from connectors.errors import RateLimited
from connectors.limits import RedisCounter, WindowLimiter
from plaudit.settings import get_settings
from workers.limits import PostgresCounter


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
