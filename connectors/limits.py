"""Provider quotas shared by every worker process.

Google's quota is requests per minute per project, whichever process sends them, so the count
lives outside the process: in Redis when the broker is Redis, else in PostgreSQL (see
``workers.limits``). Windows are aligned to the clock's minutes, so every process counts the
same window, and a window never admits more than the quota.

A short wait for the next window happens here; a long one is handed back as ``RateLimited``
so the job is re-enqueued with a delay instead of holding a worker thread.

A limiter may claim its requests in blocks: one round trip to the shared counter then covers
``block`` requests of this process. A block is only granted within the quota, so the quota still
holds; what a process claims and does not use by the window's end is lost for that window, which
is why blocks stay small beside the quota.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from connectors import errors


class WindowCounter(Protocol):
    def increment(self, key: str, window: int, ttl_seconds: int, amount: int = 1) -> int:
        """Count ``amount`` more requests in ``window`` of ``key``; the count including them."""


class RedisCounter:
    def __init__(self, client: object, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def increment(self, key: str, window: int, ttl_seconds: int, amount: int = 1) -> int:
        name = f"{self.prefix}:limit:{key}:{window}"
        pipe = self.client.pipeline()  # type: ignore[attr-defined]
        pipe.incr(name, amount)
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
        block: int = 1,
        window_seconds: float = 60.0,
        max_wait: float = 5.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.counter, self.key, self.limit = counter, key, limit
        self.block = max(1, min(block, limit))
        self.window_seconds, self.max_wait = window_seconds, max_wait
        self.clock, self.sleep = clock, sleep
        # Requests of this process's last block not used yet, and the window they belong to.
        self._lock = threading.Lock()
        self._window: int | None = None
        self._left = 0

    def acquire(self) -> None:
        while True:
            now = self.clock()
            window = int(now // self.window_seconds)
            if self._take(window):
                return
            wait = (window + 1) * self.window_seconds - now
            if wait > self.max_wait:
                raise errors.RateLimited(
                    f"plaudit's share of the {self.key} quota ({self.limit} requests a "
                    f"{self.window_seconds:g}s window) is used up",
                    retry_after=wait,
                )
            self.sleep(wait)

    def _take(self, window: int) -> bool:
        with self._lock:  # threads of a process share its block
            if self._window == window and self._left > 0:
                self._left -= 1
                return True
            ttl = int(self.window_seconds * 2) + 1
            count = self.counter.increment(self.key, window, ttl, self.block)
            # Only what fits under the quota is granted; the rest of the claim is void.
            granted = min(self.block, self.limit - (count - self.block))
            if granted <= 0:
                return False
            self._window, self._left = window, granted - 1
            return True


class Pacer:
    """At most ``limit`` writes to one provider object (a Google profile's reply edits) in any
    sliding window, shared by every process, bursts allowed.

    The window is cut into ``parts`` slices; a write is admitted while the current slice and
    the ``parts`` before it (which together cover every sliding window ending now) hold fewer
    than ``limit``. Sustained, that is ``limit`` a window and a slice: the price of not knowing
    how the provider aligns its own count.

    Never waits itself: ``reserve`` says how long to wait, and the caller hands the job back to
    the broker for that long instead of holding a worker thread.
    """

    def __init__(
        self,
        counter: WindowCounter,
        key: str,
        limit: int,
        *,
        window_seconds: float = 60.0,
        parts: int = 6,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.counter, self.key, self.limit, self.clock = counter, key, max(1, limit), clock
        self.window_seconds, self.parts = window_seconds, parts
        self.slice_seconds = window_seconds / parts

    def _ttl(self) -> int:
        return int(self.window_seconds * 3) + 1

    def _count(self, slice_: int, amount: int) -> int:
        return self.counter.increment(self.key, slice_, self._ttl(), amount)

    def reserve(self) -> float:
        """0 when a write may go now (it is then counted); else the seconds to wait."""
        now = self.clock()
        current = int(now // self.slice_seconds)
        mine = self._count(current, 1)  # counted first, so two processes never both pass
        earlier = [self._count(s, 0) for s in range(current - self.parts, current)]
        if mine + sum(earlier) <= self.limit:
            return 0.0
        self._count(current, -1)
        # Until the oldest slice that holds writes leaves the window, and a window more for
        # each ``limit`` writes already turned away now, so a bulk comes back spread out.
        oldest = next((n for n, c in enumerate(earlier) if c > 0), self.parts)
        frees_at = (current - self.parts + oldest + self.parts + 1) * self.slice_seconds
        turned_away = self.counter.increment(self.key + ":waiting", current, self._ttl())
        return frees_at - now + ((turned_away - 1) // self.limit) * self.window_seconds

    def back_off(self) -> float:
        """The provider refused a write for its rate: fill the window with this object's
        writes so that they, and only they, wait for it to pass; returns that wait."""
        self._count(int(self.clock() // self.slice_seconds), self.limit)
        return self.window_seconds + self.slice_seconds
