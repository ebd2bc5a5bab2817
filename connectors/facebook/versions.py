"""Graph API versions: when each one ends, what each still serves, and what to warn about.

From Facebook's version changelog (PROVIDERS.md §G.4). A call to a version past its end is
answered by the oldest version still available (§E), so an old pin does not fail: it silently
becomes another version. Recommendations (``/{page}/ratings``) are refused with error 12 from
v22.0 on (§G.5), so they are read through the newest version that still serves them.

"Available until" is read as the day the version goes: a version is usable on the days
*before* its end date. Facebook does not say in which timezone or at what hour it switches, so
on the day itself we no longer rely on it (and an error 12 retires ratings anyway).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

log = logging.getLogger(__name__)

# How long before a version's end the pin (or a capability) is warned about.
WARN_WITHIN = timedelta(days=90)
RATINGS = "facebook_ratings"  # FacebookRatings.name (ratings.py reaches this module through graph)
_NAMES = {RATINGS: "recommendations"}  # what a person calls each capability


@dataclass(frozen=True)
class GraphVersion:
    name: str
    released: date
    ends_on: date | None  # None: Facebook has not set it yet ("TBD")
    serves: frozenset[str]  # capabilities that need this version or older

    def available(self, today: date) -> bool:
        return self.released <= today and (self.ends_on is None or today < self.ends_on)


_WITH_RATINGS = frozenset({RATINGS})
VERSIONS: tuple[GraphVersion, ...] = (
    GraphVersion("v26.0", date(2026, 7, 29), None, frozenset()),
    GraphVersion("v25.0", date(2026, 2, 18), date(2028, 7, 29), frozenset()),
    GraphVersion("v24.0", date(2025, 10, 8), date(2028, 2, 18), frozenset()),
    GraphVersion("v23.0", date(2025, 5, 29), date(2027, 10, 8), frozenset()),
    GraphVersion("v22.0", date(2025, 1, 21), date(2027, 5, 20), frozenset()),
    GraphVersion("v21.0", date(2024, 10, 2), date(2027, 1, 21), _WITH_RATINGS),
    GraphVersion("v20.0", date(2024, 5, 21), date(2026, 9, 24), _WITH_RATINGS),
)
BY_NAME = {version.name: version for version in VERSIONS}


@dataclass(frozen=True)
class VersionWarning:
    code: str  # version_ending | version_ended | version_unknown | capability_ending
    message: str
    ends_on: date | None


def today_utc() -> date:
    return datetime.now(UTC).date()


def normalise(raw: str) -> str:
    """``"22.0"`` and ``" v22.0 "`` are both ``"v22.0"``."""
    pinned = raw.strip()
    return pinned if pinned.startswith("v") else "v" + pinned


def oldest_available(today: date) -> GraphVersion | None:
    available = [v for v in VERSIONS if v.available(today)]
    return min(available, key=lambda v: v.released) if available else None


def version_for(capability: str, today: date) -> str | None:
    """The newest version still available that serves ``capability``; None once none does."""
    serving = [v for v in VERSIONS if capability in v.serves and v.available(today)]
    return max(serving, key=lambda v: v.released).name if serving else None


def capability_ends_on(capability: str) -> date | None:
    """The day the last version serving ``capability`` goes."""
    ends = [v.ends_on for v in VERSIONS if capability in v.serves and v.ends_on is not None]
    return max(ends) if ends else None


def warnings(pinned: str, today: date) -> list[VersionWarning]:
    """What an operator should know about the pinned version on ``today``."""
    name = normalise(pinned)
    version = BY_NAME.get(name)
    if version is None:
        return [
            VersionWarning(
                "version_unknown",
                f"Graph API {name} is not in plaudit's table of versions: its end date and "
                "what it serves are unknown; pin a listed version (PLAUDIT_FACEBOOK_GRAPH_VERSION)",
                None,
            )
        ]
    if version.ends_on is None:
        return []
    if today >= version.ends_on:
        oldest = oldest_available(today)
        instead = oldest.name if oldest is not None else "the oldest version still available"
        return [
            VersionWarning(
                "version_ended",
                f"Graph API {name} ended on {version.ends_on.isoformat()}: Facebook answers "
                f"its calls as {instead} instead; pin a current version",
                version.ends_on,
            )
        ]
    if version.ends_on - today <= WARN_WITHIN:
        return [
            VersionWarning(
                "version_ending",
                f"Graph API {name} ends on {version.ends_on.isoformat()}: pin a newer version "
                "before then (PLAUDIT_FACEBOOK_GRAPH_VERSION)",
                version.ends_on,
            )
        ]
    return []


def ratings_warnings(today: date) -> list[VersionWarning]:
    """Recommendations end with the last version serving them, whatever the pin."""
    ends_on = capability_ends_on(RATINGS)
    if ends_on is None or today >= ends_on or ends_on - today > WARN_WITHIN:
        return []
    return [
        VersionWarning(
            "capability_ending",
            f"Facebook recommendations can be read until {ends_on.isoformat()} (Graph API "
            f"{version_for(RATINGS, today)}); every later version refuses them (error 12)",
            ends_on,
        )
    ]


def retired_reason(capability: str, today: date) -> str | None:
    """Why a capability is gone by date alone, or None while some version serves it."""
    ends_on = capability_ends_on(capability)
    if ends_on is None or version_for(capability, today) is not None:
        return None
    return (
        f"Facebook stopped serving {_NAMES.get(capability, capability)} on "
        f"{ends_on.isoformat()}: the Graph API versions still available refuse them (error 12)"
    )


_logged: set[tuple[str, str, date]] = set()


def log_warnings(pinned: str, today: date) -> None:
    """One log line per warning, per process and day: every Facebook job asks."""
    for warning in warnings(pinned, today):
        key = (warning.code, normalise(pinned), today)
        if key not in _logged:
            _logged.add(key)
            log.warning("facebook graph version: %s", warning.message)
