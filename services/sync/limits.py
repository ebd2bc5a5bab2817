"""Which shared counter the provider limiters use: the broker's Redis, or PostgreSQL."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from sqlalchemy import text

from connectors.base import Limiter
from connectors.limits import RedisCounter, UsageGate, WindowCounter, WindowLimiter
from core.settings import get_settings
from models.db import get_engine

_INCREMENT = text(
    "INSERT INTO rate_limit_windows (key, window_start, count, expires_at) "
    "VALUES (:key, :window, :amount, now() + make_interval(secs => :ttl)) "
    "ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limit_windows.count + :amount "
    "RETURNING count"
)
_RAISE_TO = text(
    "INSERT INTO rate_limit_windows (key, window_start, count, expires_at) "
    "VALUES (:key, :window, :value, now() + make_interval(secs => :ttl)) "
    "ON CONFLICT (key, window_start) DO UPDATE SET "
    "count = GREATEST(rate_limit_windows.count, EXCLUDED.count), "
    "expires_at = GREATEST(rate_limit_windows.expires_at, EXCLUDED.expires_at) "
    "RETURNING count"
)
_READ = text(
    "SELECT count FROM rate_limit_windows "
    "WHERE key = :key AND window_start = :window AND expires_at >= now()"
)
_EXPIRED = text("DELETE FROM rate_limit_windows WHERE expires_at < now()")


class PostgresCounter:
    """For the embedded default (no Redis): one row per key and window, counted atomically."""

    def increment(self, key: str, window: int, ttl_seconds: int, amount: int = 1) -> int:
        with get_engine().begin() as conn:
            count = conn.execute(
                _INCREMENT, {"key": key, "window": window, "ttl": ttl_seconds, "amount": amount}
            )
            value = int(count.scalar_one())
            if value == amount:  # a new window: the old ones are done with
                conn.execute(_EXPIRED)
            return value

    def raise_to(self, key: str, window: int, ttl_seconds: int, value: int) -> int:
        with get_engine().begin() as conn:
            if value <= 0:  # a read, which need not write
                found = conn.execute(_READ, {"key": key, "window": window}).scalar()
                return int(found or 0)
            params = {"key": key, "window": window, "ttl": ttl_seconds, "value": value}
            return int(conn.execute(_RAISE_TO, params).scalar_one())


def shared_counter() -> WindowCounter:
    """The counter every process shares, for limits kept outside `limiter_for`."""
    return _counter()


@lru_cache(maxsize=1)
def _counter() -> RedisCounter | PostgresCounter:
    settings = get_settings()
    if settings.broker_url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        client = redis.Redis.from_url(settings.broker_url)
        return RedisCounter(client, settings.broker_namespace)
    return PostgresCounter()


def _google_key() -> str:
    settings = get_settings()
    # The host is part of the key so that stand-ins (a sandbox per test) count apart.
    host = urlsplit(settings.google_mybusiness_url).netloc
    return f"google:{settings.google_client_id}@{host}"


def google_window(now: float, polls: int = 0) -> tuple[int, int]:
    """The current minute of Google's quota as the scheduler sees it: the requests the
    limiters have counted, and the polls schedulers have sent (adding ``polls``), which may
    not have reached a limiter yet."""
    counter, window = _counter(), int(now // 60)
    key = _google_key()
    # Counting nothing reads the count (and keeps the key's expiry, as a request would).
    used = counter.increment(key, window, 121, 0)
    sent = counter.increment(f"polls:{key}", window, 121, polls)
    return used, sent


def limiter_for(provider: str) -> Limiter | None:
    """Google counts requests per project (one OAuth client is one project); Facebook's own
    usage headers pace its calls, through figures every process shares."""
    if provider == "facebook":
        return facebook_gate()
    if provider != "google":
        return None
    return _limiter(_google_key(), get_settings().google_requests_per_minute)


def facebook_gate() -> UsageGate:
    settings = get_settings()
    # The app and the host: stand-ins (a sandbox per test) and other apps count apart.
    host = urlsplit(settings.facebook_graph_url).netloc
    return _gate(
        f"facebook:{settings.facebook_app_id}@{host}", settings.facebook_usage_slowdown_percent
    )


@lru_cache(maxsize=16)
def _gate(prefix: str, slowdown_percent: int) -> UsageGate:
    # One per process, so that its threads share what they read.
    return UsageGate(_counter(), prefix, slowdown_percent=slowdown_percent)


@lru_cache(maxsize=16)
def _limiter(key: str, per_minute: int) -> WindowLimiter:
    # One per process, so that its syncs share a block instead of each wasting one. A block of
    # 1 % of the quota (at most 50) makes a round trip to the counter serve many requests while
    # leaving little unused at a window's end; small quotas are counted request by request.
    return WindowLimiter(_counter(), key, per_minute, block=min(50, max(1, per_minute // 100)))
