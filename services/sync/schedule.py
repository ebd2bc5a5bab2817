"""When a connection is synced next: the scheduler's lease, and the regular interval.

A Google connection's locations are polled one by one where reviews are likely
(``services.sync.polling``); the sync of the whole connection is then the daily walk that
also refreshes its list of locations. Other providers sync the whole connection at the
regular interval (less often with push).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.settings import get_settings
from models import Connection, Provider

# Google connections: the walk of every location, beside the per-location polls.
WALK_INTERVAL = timedelta(hours=24)


def claim_sync(connection: Connection, now: datetime) -> None:
    """Mark a connection whose sync has just been enqueued as claimed for a lease, so that the
    scheduler does not enqueue it again while the message waits for a worker. The sync sets the
    next regular time when it starts; if the message is lost, the lease runs out and the
    scheduler enqueues it again."""
    settings = get_settings()
    lease = min(settings.sync_lease_seconds, settings.sync_interval_seconds)
    connection.next_sync_at = now + timedelta(seconds=lease)


def schedule_next(connection: Connection) -> None:
    """Polling is the safety net of push: a connection the provider pushes to is polled less."""
    if connection.provider == Provider.GOOGLE:
        connection.next_sync_at = datetime.now(UTC) + WALK_INTERVAL
        return
    settings = get_settings()
    interval = (
        settings.push_sync_interval_seconds
        if connection.push_enabled
        else settings.sync_interval_seconds
    )
    connection.next_sync_at = datetime.now(UTC) + timedelta(seconds=interval)
