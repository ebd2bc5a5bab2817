"""CPU seconds used by groups of processes and the machine's idle share, from /proc.

A bench that says "the cores bind" should show it: this reads each process's user and system
time (``/proc/<pid>/stat``, its own and its reaped children's) and the machine's counters
(``/proc/stat``) before and after a measured stretch. Linux only; no dependency.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def process_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and of its children it has reaped (0 if gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # The command name is in parentheses and may hold spaces: fields start after the last ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return (utime + stime + cutime + cstime) / TICKS


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def machine() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot, every core counted."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is already in user)
    total = sum(values[:8])
    idle = values[3] + values[4]
    return (total - idle) / TICKS, total / TICKS


@dataclass
class Usage:
    seconds: dict[str, float]  # CPU seconds per group over the stretch
    machine_busy: float  # CPU seconds the whole machine was busy, every process
    machine_all: float  # CPU seconds the machine had (elapsed × cores)

    @property
    def busy_share(self) -> float:
        return self.machine_busy / max(self.machine_all, 1e-9)

    @property
    def others(self) -> float:
        """Busy seconds of processes outside the groups (other work on a shared machine)."""
        return max(0.0, self.machine_busy - sum(self.seconds.values()))


class Meter:
    """CPU seconds per group of processes between ``start`` and ``stop``. A group is named by a
    function that lists its pids at that moment (a PostgreSQL backend may come or go): a pid
    seen only at the end counts from zero; one gone by then is left out (what it used in the
    stretch is lost, an under-count of short-lived processes only)."""

    def __init__(self, groups: dict[str, Callable[[], Iterable[int]]]) -> None:
        self.groups = groups
        self._start: dict[str, dict[int, float]] = {}
        self._machine = (0.0, 0.0)

    def _read(self) -> dict[str, dict[int, float]]:
        return {
            name: {pid: process_seconds(pid) for pid in pids()}
            for name, pids in self.groups.items()
        }

    def start(self) -> None:
        self._start = self._read()
        self._machine = machine()

    def stop(self) -> Usage:
        end, (busy, total) = self._read(), machine()
        seconds = {}
        for name, pids in end.items():
            before = self._start.get(name, {})
            seconds[name] = sum(max(0.0, t - before.get(pid, 0.0)) for pid, t in pids.items())
        return Usage(seconds, busy - self._machine[0], total - self._machine[1])
