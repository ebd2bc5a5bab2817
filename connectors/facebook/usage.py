"""Facebook's usage headers: how close the app and each page are to being throttled.

``X-App-Usage`` / ``X-Page-Usage`` hold percentages; ``X-Business-Use-Case-Usage`` holds them
per page, with ``estimated_time_to_regain_access`` in minutes once a page is throttled.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_PERCENT_KEYS = ("call_count", "total_cputime", "total_time")


@dataclass(frozen=True)
class Usage:
    percent: float = 0.0  # the highest of every figure in every header
    regain_seconds: float = 0.0

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Usage:
        percent, regain = 0.0, 0.0
        for name in ("x-app-usage", "x-page-usage"):
            percent = max(percent, _highest(_json(headers.get(name))))
        business = _json(headers.get("x-business-use-case-usage"))
        if isinstance(business, dict):
            for entries in business.values():
                for entry in entries if isinstance(entries, list) else []:
                    percent = max(percent, _highest(entry))
                    minutes = entry.get("estimated_time_to_regain_access") if entry else None
                    if isinstance(minutes, int | float):
                        regain = max(regain, float(minutes) * 60)
        return cls(percent, regain)


def _json(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _highest(figures: Any) -> float:
    if not isinstance(figures, dict):
        return 0.0
    values = [figures.get(key) for key in _PERCENT_KEYS]
    return max((float(v) for v in values if isinstance(v, int | float)), default=0.0)
