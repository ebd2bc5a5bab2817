"""Facebook's rate limits, as the sandbox plays them (PROVIDERS.md §E "Usage headers", §G.6).

Calls with a page token count against that page's budget (the business use-case limit, shared
by every app using the page), every other call against the app's (the platform limit). Each
answer reports the usage as percentages in ``X-App-Usage`` and, for a page token, in
``X-Business-Use-Case-Usage`` keyed by the page id. A call over a budget is refused, as
Facebook does: 80001 (or the configured 32/613) for a page, 4 for the app, with the page's
``estimated_time_to_regain_access`` in whole minutes. Refused calls are not counted.

A window shorter than a minute is a test's stand-in for Facebook's (a minute or longer), and
its waits are counted in whole windows instead of minutes: a minute's window always announces
one minute, so a 30 s window announces its 30 s (0.5), and every wait shrinks with the window.

Without a budget the figures are the fixed percentages the admin API sets (``app_usage``,
``page_usage``), and nothing is refused.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

PAGE_REFUSALS = frozenset({80001, 32, 613})


@dataclass
class UsageBudget:
    app_budget: int | None = None  # calls a window, None: unlimited
    page_budget: int | None = None  # calls a window for each page
    window_seconds: float = 60.0
    page_refusal_code: int = 80001
    app_usage: float = 1  # the fixed percentages reported without a budget
    page_usage: float = 1
    refused: int = 0
    clock: Callable[[], float] = time.time
    _calls: dict[tuple[str, int], int] = field(default_factory=dict)

    def configure(self, **settings: object) -> None:
        code = int(settings.get("page_refusal_code", self.page_refusal_code))  # type: ignore[call-overload]
        if code not in PAGE_REFUSALS:
            raise ValueError(f"page_refusal_code must be one of {sorted(PAGE_REFUSALS)}")
        for name in ("app_budget", "page_budget"):
            if name in settings:
                value = settings[name]
                if value is not None and (not isinstance(value, int) or value < 1):
                    raise ValueError(f"{name} must be a positive count or null")
                setattr(self, name, value)
        if "window_seconds" in settings:
            self.window_seconds = max(1.0, float(settings["window_seconds"]))  # type: ignore[arg-type]
        for name in ("app_usage", "page_usage"):
            if name in settings:
                setattr(self, name, float(settings[name]))  # type: ignore[arg-type]
        self.page_refusal_code = code
        self._calls.clear()

    def describe(self) -> dict[str, object]:
        return {
            "app_budget": self.app_budget,
            "page_budget": self.page_budget,
            "window_seconds": self.window_seconds,
            "page_refusal_code": self.page_refusal_code,
            "app_usage": self.app_usage,
            "page_usage": self.page_usage,
            "refused": self.refused,
        }

    def spend(self, page_id: str | None) -> tuple[int, float] | None:
        """Count one call (the caller holds the state's lock); the refusal's code and minutes
        to regain access when the budget is used up, else None."""
        key, budget = ("page:" + page_id, self.page_budget) if page_id else ("app", self.app_budget)
        if budget is None:
            return None
        window = self._window()
        if self._calls.get((key, window), 0) >= budget:
            self.refused += 1
            code = self.page_refusal_code if page_id else 4
            return code, self.regain_minutes()
        if (key, window) not in self._calls:
            self._calls = {k: v for k, v in self._calls.items() if k[1] == window}
        self._calls[(key, window)] = self._calls.get((key, window), 0) + 1
        return None

    def regain_minutes(self) -> float:
        if self.window_seconds < 60:
            # One whole window (never less: rounded up), as a minute's window says one minute.
            return math.ceil(self.window_seconds / 60 * 10_000) / 10_000
        left = (self._window() + 1) * self.window_seconds - self.clock()
        return max(1, math.ceil(left / 60))

    def headers(self, page_id: str | None, regain: float | None) -> dict[str, str]:
        """The usage headers of one answer; ``regain`` (minutes) for a page refusal."""
        app = self._percent("app", self.app_budget, self.app_usage)
        headers = {"X-App-Usage": json.dumps(_figures(app))}
        if page_id is not None:
            page = self._percent("page:" + page_id, self.page_budget, self.page_usage)
            if regain is not None:
                page = max(page, 100)
            business = {"type": "pages", **_figures(page)}
            business["estimated_time_to_regain_access"] = regain or 0
            headers["X-Business-Use-Case-Usage"] = json.dumps({page_id: [business]})
        return headers

    def _window(self) -> int:
        return int(self.clock() // self.window_seconds)

    def _percent(self, key: str, budget: int | None, fixed: float) -> int:
        if budget is None:
            return int(fixed)
        return math.ceil(100 * self._calls.get((key, self._window()), 0) / budget)


def _figures(percent: int) -> dict[str, int]:
    # Facebook reports CPU and time as well; the sandbox's cost is its calls.
    return {"call_count": percent, "total_cputime": min(percent, 1), "total_time": min(percent, 1)}
