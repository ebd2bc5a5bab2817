"""What a person should know about a connection that is not an error yet: a provider API version
nearing its end, a capability that ends on a known date."""

from __future__ import annotations

from datetime import UTC, date, datetime

from connectors.facebook import versions
from connectors.facebook.versions import VersionWarning
from core.settings import get_settings
from models import CapabilityState, Connection, Provider


def connection_warnings(
    connection: Connection, *, today: date | None = None
) -> list[VersionWarning]:
    """``today``: the day to judge by (None: today, UTC)."""
    if connection.provider != Provider.FACEBOOK:
        return []
    day = today or datetime.now(UTC).date()
    found = versions.warnings(get_settings().facebook_graph_version, day)
    if connection.capability_state(versions.RATINGS) == CapabilityState.AVAILABLE:
        found += versions.ratings_warnings(day)
    return found
