"""Facebook's usage headers: how close the app and each page are to being throttled
(PROVIDERS.md §E "Usage headers", §G.6).

``X-App-Usage`` (and the legacy ``X-Page-Usage``) hold percentages of the app's (or the token's
page's) platform limit; ``X-Business-Use-Case-Usage`` holds them per page, with
``estimated_time_to_regain_access`` in minutes once a page is throttled. A missing header means
low use, not an error: Facebook leaves it out while utilisation is effectively 0 %.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.facebook.errors import graph_error
from connectors.limits import UsageGate

_PERCENT_KEYS = ("call_count", "total_cputime", "total_time")
APP = "app"
# Refusals that count against the page a page token belongs to (BUC and the older page limit),
# and those that count against the app (PROVIDERS.md §G.6).
PAGE_THROTTLES = frozenset({80001, 32, 613})
APP_THROTTLES = frozenset({4, 17, 32, 613})
# Platform limits announce no wait (their window rolls over an hour): a refused app waits this.
APP_THROTTLE_SECONDS = 60.0


@dataclass(frozen=True)
class Level:
    """One scope's figures: the highest percentage, and the wait Facebook announced."""

    percent: float = 0.0
    regain_seconds: float = 0.0


@dataclass(frozen=True)
class Usage:
    app: Level = Level()  # X-App-Usage, and X-Page-Usage (the token's own limit)
    pages: dict[str, Level] = field(default_factory=dict)  # X-Business-Use-Case-Usage by page

    @property
    def percent(self) -> float:
        """The highest of every figure in every header."""
        return max([self.app.percent, *(level.percent for level in self.pages.values())])

    @property
    def regain_seconds(self) -> float:
        return max([self.app.regain_seconds, *(lv.regain_seconds for lv in self.pages.values())])

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Usage:
        app = Level()
        for name in ("x-app-usage", "x-page-usage"):
            app = _higher(app, _level(_json(_header(headers, name))))
        pages: dict[str, Level] = {}
        business = _json(_header(headers, "x-business-use-case-usage"))
        if isinstance(business, dict):
            for page_id, entries in business.items():
                level = Level()
                for entry in entries if isinstance(entries, list) else []:
                    level = _higher(level, _level(entry))
                pages[str(page_id)] = level
        return cls(app, pages)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # requests' headers ignore case; a plain dict (a test's) is given in lower case.
    return headers.get(name) or headers.get(name.title())


def _higher(a: Level, b: Level) -> Level:
    return Level(max(a.percent, b.percent), max(a.regain_seconds, b.regain_seconds))


def _json(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _level(figures: Any) -> Level:
    if not isinstance(figures, dict):
        return Level()
    values = [_number(figures.get(key)) for key in _PERCENT_KEYS]
    percent = max((v for v in values if v is not None), default=0.0)
    minutes = _number(figures.get("estimated_time_to_regain_access"))
    return Level(percent, max(0.0, minutes or 0.0) * 60)


def page_scope(page_id: str) -> str:
    return f"page:{page_id}"


def usage_scopes(page_id: str | None) -> tuple[str, ...]:
    """What a call counts against: the app, and the page of a page token."""
    return (APP,) if page_id is None else (APP, page_scope(page_id))


def share_usage(
    gate: UsageGate, usage: Usage, error_body: dict[str, Any] | None, *, page_id: str | None
) -> None:
    """Tell every process what one answer said: the usage figures, and for a refusal, that
    its scope waits (the page's announced time; the app a minute)."""
    gate.report(APP, usage.app.percent, usage.app.regain_seconds)
    for page, level in usage.pages.items():
        gate.report(page_scope(page), level.percent, level.regain_seconds)
    code = graph_error(error_body or {}).get("code")
    if page_id is not None and code in PAGE_THROTTLES:
        gate.report(page_scope(page_id), 100, usage.pages.get(page_id, Level()).regain_seconds)
    elif code in APP_THROTTLES or (page_id is None and code in PAGE_THROTTLES):
        gate.block(APP, max(APP_THROTTLE_SECONDS, usage.app.regain_seconds))
