"""RFC3339 timestamps as Google prints them, and a clock that never repeats itself.

Times are kept as integer nanoseconds since the epoch plus the number of fractional digits to
print (0, 3, 6 or 9), because Google's own output varies in precision and clients must cope.
"""

from __future__ import annotations

import functools
import threading
import time
from datetime import UTC, datetime

NS_PER_S = 1_000_000_000
FRACTION_DIGITS = (0, 3, 6, 9)


def quantize(ns: int, digits: int) -> int:
    """Drop the precision that `digits` cannot print, so ordering matches what clients see."""
    unit = 10 ** (9 - digits)
    return ns - ns % unit


@functools.lru_cache(maxsize=4096)
def _date_prefix(day: int) -> str:
    return datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%dT")


def format_rfc3339(ns: int, digits: int) -> str:
    # Hand-rolled rather than strftime: serialising reviews is the listing hot path.
    seconds, fraction = divmod(ns, NS_PER_S)
    day, second_of_day = divmod(seconds, 86400)
    hours, rest = divmod(second_of_day, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{_date_prefix(day)}{hours:02d}:{minutes:02d}:{secs:02d}"
    if digits:
        text += "." + f"{fraction:09d}"[:digits]
    return text + "Z"


class Clock:
    """Wall-clock microseconds, strictly increasing so two edits never share an updateTime."""

    digits = 6

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def now_ns(self) -> int:
        with self._lock:
            now = quantize(time.time_ns(), self.digits)
            self._last = max(now, self._last + 10 ** (9 - self.digits))
            return self._last
