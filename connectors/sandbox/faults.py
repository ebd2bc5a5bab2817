"""Faults injected on demand: errors, slow answers, answers lost after the work was done,
connections dropped without an answer, and malformed reviews inside an otherwise normal page."""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass
from typing import Any

FAULT_STATUSES = frozenset({401, 403, 404, 429, 500, 503})
MALFORMED_KINDS = ("missing_id", "bad_rating", "bad_time")


@dataclass
class Fault:
    id: int
    path: re.Pattern[str]
    method: str | None = None
    token: str | None = None
    status: int | None = None
    retry_after: float | None = None
    times: int = 1  # -1: forever
    delay: float = 0.0
    after_handling: bool = False
    # Close the connection without a byte of answer (after the work, with after_handling).
    drop: bool = False
    malformed_review: str | None = None  # one of MALFORMED_KINDS
    reason: str | None = None  # 403 only: SERVICE_DISABLED, RATE_LIMIT_EXCEEDED
    quota_limit_value: str = "300"  # 429 only: "0" means the project has no GBP access
    hits: int = 0

    @classmethod
    def from_spec(cls, fault_id: int, spec: dict[str, Any]) -> Fault:
        """Build from the admin API's JSON; raises ValueError naming the bad field."""
        known = {
            "path", "method", "token", "status", "retry_after", "times", "delay",
            "after_handling", "drop", "malformed_review", "reason", "quota_limit_value",
        }  # fmt: skip
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        try:
            path = re.compile(spec.get("path") or ".*")
        except re.error as exc:
            raise ValueError(f"path is not a valid regex: {exc}") from exc
        status = spec.get("status")
        if status is not None and status not in FAULT_STATUSES:
            raise ValueError(f"status must be one of {sorted(FAULT_STATUSES)}")
        malformed = spec.get("malformed_review")
        if malformed is True:
            malformed = MALFORMED_KINDS[fault_id % len(MALFORMED_KINDS)]
        elif malformed is False:
            malformed = None
        if malformed is not None and malformed not in MALFORMED_KINDS:
            raise ValueError(f"malformed_review must be true or one of {MALFORMED_KINDS}")
        delay = float(spec.get("delay") or 0)
        drop = bool(spec.get("drop", False))
        if status is None and not delay and not drop and malformed is None:
            raise ValueError("a fault needs status, delay, drop or malformed_review")
        if malformed is not None and (status is not None or delay or drop):
            raise ValueError("malformed_review cannot be combined with status, delay or drop")
        if drop and status is not None:
            raise ValueError("drop sends no answer, so it cannot be combined with status")
        times = int(spec.get("times", 1))
        if times == 0 or times < -1:
            raise ValueError("times must be a positive count or -1")
        retry_after = spec.get("retry_after")
        return cls(
            id=fault_id,
            path=path,
            method=(spec.get("method") or "").upper() or None,
            token=spec.get("token"),
            status=status,
            retry_after=None if retry_after is None else float(retry_after),
            times=times,
            delay=delay,
            after_handling=bool(spec.get("after_handling", False)),
            drop=drop,
            malformed_review=malformed,
            reason=spec.get("reason"),
            quota_limit_value=str(spec.get("quota_limit_value", "300")),
        )

    def matches(self, method: str, path: str, token: str | None) -> bool:
        return (
            (self.method is None or self.method == method)
            and (self.token is None or self.token == token)
            and self.path.search(path) is not None
        )

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": self.path.pattern,
            "method": self.method,
            "token": self.token,
            "status": self.status,
            "retry_after": self.retry_after,
            "times": self.times,
            "delay": self.delay,
            "after_handling": self.after_handling,
            "drop": self.drop,
            "malformed_review": self.malformed_review,
            "reason": self.reason,
            "hits": self.hits,
        }


class FaultBook:
    """Faults in the order they were added; the first one matching a request applies."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: dict[str, Any]) -> Fault:
        with self._lock:
            fault = Fault.from_spec(next(self._ids), spec)
            self._faults.append(fault)
            return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def take(self, method: str, path: str, token: str | None, *, malformed: bool) -> Fault | None:
        """Consume one use of the first matching fault of the wanted kind.

        Malformed-review faults are taken by the reviews.list handler, all others by the
        front door, so one kind never uses up the other's budget.
        """
        if not self._faults:  # the common case, checked without the lock
            return None
        with self._lock:
            for fault in self._faults:
                if (fault.malformed_review is not None) != malformed:
                    continue
                if not fault.matches(method, path, token):
                    continue
                fault.hits += 1
                if fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                return fault
        return None
