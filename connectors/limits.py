"""Provider quotas shared by every worker process.

Google's quota is requests per minute per project, whichever process sends them, so the count
lives outside the process: in Redis when the broker is Redis, else in PostgreSQL (see
``workers.limits``). Windows are aligned to the clock's minutes, so every process counts the
same window, and a window never admits more than the quota.

A short wait for the next window happens here; a long one is handed back as ``RateLimited``
so the job is re-enqueued with a delay instead of holding a worker thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from connectors import errors


class WindowCounter(Protocol):
    def increment(self, key: str, window: int, ttl_seconds: int) -> int:
        """Count one more request in ``window`` of ``key``; the count including it."""


class RedisCounter:
    def __init__(self, client: object, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def increment(self, key: str, window: int, ttl_seconds: int) -> int:
        name = f"{self.prefix}:limit:{key}:{window}"
        pipe = self.client.pipeline()  # type: ignore[attr-defined]
        pipe.incr(name)
        pipe.expire(name, ttl_seconds)
        count, _ = pipe.execute()
        return int(count)


class WindowLimiter:
    """At most ``limit`` requests per ``window_seconds`` window, across processes."""

    def __init__(
        self,
        counter: WindowCounter,
        key: str,
        limit: int,
        *,
        window_seconds: float = 60.0,
        max_wait: float = 5.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.counter, self.key, self.limit = counter, key, limit
        self.window_seconds, self.max_wait = window_seconds, max_wait
        self.clock, self.sleep = clock, sleep

    def acquire(self) -> None:
        while True:
            now = self.clock()
            window = int(now // self.window_seconds)
            ttl = int(self.window_seconds * 2) + 1
            if self.counter.increment(self.key, window, ttl) <= self.limit:
                return
            wait = (window + 1) * self.window_seconds - now
            if wait > self.max_wait:
                raise errors.RateLimited(
                    f"plaudit's share of the {self.key} quota ({self.limit} requests a "
                    f"{self.window_seconds:g}s window) is used up",
                    retry_after=wait,
                )
            self.sleep(wait)
