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

Facebook publishes no request count to keep under: it reports how much of each limit is used
(percentages in its usage headers) and, once throttled, how long to wait. `UsageGate` keeps
those figures where every process reads them, so that a new client (a new job, another worker)
is paced from its first call by what the others have seen.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from connectors import errors


class WindowCounter(Protocol):
    def increment(self, key: str, window: int, ttl_seconds: int, amount: int = 1) -> int:
        """Count ``amount`` more requests in ``window`` of ``key``; the count including them."""


class SharedMaximum(Protocol):
    def raise_to(self, key: str, window: int, ttl_seconds: int, value: int) -> int:
        """Keep the highest ``value`` given for ``window`` of ``key``; returns that highest
        (``value=0`` reads it)."""


# The highest of the stored value and ARGV[1], kept for ARGV[2] seconds; one round trip.
_RAISE_TO = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local wanted = tonumber(ARGV[1])
if wanted > current then
  redis.call('SET', KEYS[1], wanted, 'EX', ARGV[2])
  return wanted
end
return current
"""


class RedisCounter:
    def __init__(self, client: object, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._raise_to = client.register_script(_RAISE_TO)  # type: ignore[attr-defined]

    def raise_to(self, key: str, window: int, ttl_seconds: int, value: int) -> int:
        name = f"{self.prefix}:max:{key}:{window}"
        return int(self._raise_to(keys=[name], args=[int(value), max(1, ttl_seconds)]))

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


@dataclass
class _Seen:
    """What this process last read of one scope, and when."""

    read_at: float
    blocked_until: float
    percent: float


class UsageGate:
    """Pacing by a provider's own usage figures, shared by every process through a
    `SharedMaximum` (Redis or PostgreSQL, as the quota counters).

    A scope (the app, one page) is *blocked* until the time the provider said it regains
    access, and *slowed* above ``slowdown_percent``: each call then waits a share of
    ``max_slowdown`` seconds growing to all of it at 100 %. Percentages are kept per minute
    window (the highest reported), so a figure the provider no longer reports fades within two
    minutes. Reads are cached for ``refresh_seconds`` per process: the threads of a process
    share one read, and another process's news arrives within that time.

    A wait longer than ``max_wait`` is not slept here: it is raised as ``RateLimited`` so that
    the job goes back to the broker for that long (a sync pauses and resumes where it stopped).
    """

    def __init__(
        self,
        store: SharedMaximum,
        prefix: str,
        *,
        slowdown_percent: float = 80.0,
        max_slowdown: float = 2.0,
        max_wait: float = 5.0,
        at_limit_seconds: float = 2.0,
        refresh_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store, self.prefix = store, prefix
        self.slowdown_percent, self.max_slowdown = slowdown_percent, max_slowdown
        self.max_wait, self.at_limit_seconds = max_wait, at_limit_seconds
        self.refresh_seconds, self.clock, self.sleep = refresh_seconds, clock, sleep
        self._lock = threading.Lock()
        self._seen: dict[str, _Seen] = {}
        self._written: dict[tuple[str, int], int] = {}  # highest percent sent, per window

    def acquire(self, scopes: Sequence[str] = ()) -> None:
        """Wait (briefly) until a call touching every one of ``scopes`` may go."""
        while True:
            now = self.clock()
            seen = {scope: self._read(scope, now) for scope in scopes}
            scope, blocked = max(
                ((s, v.blocked_until - now) for s, v in seen.items()),
                key=lambda pair: pair[1],
                default=("", 0.0),
            )
            if blocked <= 0:
                break
            if blocked > self.max_wait:
                raise errors.RateLimited(
                    f"the provider throttles calls for {scope}: {blocked:.0f}s to go",
                    retry_after=blocked,
                )
            self.sleep(blocked)
        percent = max((v.percent for v in seen.values()), default=0.0)
        if percent >= self.slowdown_percent:
            share = (percent - self.slowdown_percent) / max(1.0, 100.0 - self.slowdown_percent)
            self.sleep(min(1.0, share) * self.max_slowdown)

    def scoped(self, scopes: Sequence[str]) -> ScopedGate:
        """The `Limiter` of calls that touch ``scopes`` (a page token's calls: the app and
        its page)."""
        return ScopedGate(self, tuple(scopes))

    def report(self, scope: str, percent: float, regain_seconds: float = 0.0) -> None:
        """What one answer said of ``scope``: its usage, and the wait it announced. At 100 %
        the provider starts refusing, so the scope waits then even without an announced time."""
        now = self.clock()
        if regain_seconds > 0:
            self.block(scope, regain_seconds)
        elif percent >= 100:
            self.block(scope, self.at_limit_seconds)
        window, value = int(now // 60), math.ceil(percent)
        key = (scope, window)
        with self._lock:
            if value <= self._written.get(key, 0):
                return  # nothing the others do not know yet
            self._written = {k: v for k, v in self._written.items() if k[1] >= window - 1}
            self._written[key] = value
        self.store.raise_to(self._key(scope, "usage"), window, 180, value)
        with self._lock:
            if scope in self._seen:
                self._seen[scope].percent = max(self._seen[scope].percent, float(value))

    def block(self, scope: str, seconds: float) -> None:
        """No call touching ``scope`` for ``seconds``, in any process."""
        until = math.ceil(self.clock() + seconds)
        until = self.store.raise_to(self._key(scope, "blocked"), 0, int(seconds) + 120, until)
        with self._lock:
            seen = self._seen.get(scope)
            if seen is not None:
                seen.blocked_until = max(seen.blocked_until, float(until))

    def _read(self, scope: str, now: float) -> _Seen:
        with self._lock:
            seen = self._seen.get(scope)
            if seen is not None and now - seen.read_at < self.refresh_seconds:
                return seen
        window = int(now // 60)
        usage = self._key(scope, "usage")
        # Counting nothing reads the value; a quiet minute falls back to the one before.
        percent = self.store.raise_to(usage, window, 180, 0) or self.store.raise_to(
            usage, window - 1, 180, 0
        )
        blocked = self.store.raise_to(self._key(scope, "blocked"), 0, 120, 0)
        seen = _Seen(now, float(blocked), float(percent))
        with self._lock:
            self._seen[scope] = seen
        return seen

    def _key(self, scope: str, what: str) -> str:
        return f"{self.prefix}:{scope}:{what}"


@dataclass(frozen=True)
class ScopedGate:
    gate: UsageGate
    scopes: tuple[str, ...]

    def acquire(self) -> None:
        self.gate.acquire(self.scopes)
