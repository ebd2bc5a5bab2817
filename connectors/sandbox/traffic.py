"""What the sandbox was asked: per-path counts for assertions like "one request per location",
and a bounded log of recent requests for debugging."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, deque
from typing import Any

RECENT_LIMIT = 10_000


class Traffic:
    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._counts: Counter[str] = Counter()
        self._recent: deque[dict[str, Any]] = deque(maxlen=RECENT_LIMIT)

    def record(self, method: str, path: str, query: str) -> dict[str, Any]:
        """Count a request; the returned entry gets its status once the answer is sent."""
        entry = {"at": time.time(), "method": method, "path": path, "query": query, "status": None}
        with self._lock:
            self._counts[path] += 1
            self._recent.append(entry)
        return entry

    def counts(self, path_regex: str | None = None) -> dict[str, Any]:
        pattern = re.compile(path_regex) if path_regex else None
        with self._lock:
            paths = {p: n for p, n in self._counts.items() if pattern is None or pattern.search(p)}
        return {"total": sum(paths.values()), "paths": paths}

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._recent)[-limit:]

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._recent.clear()
