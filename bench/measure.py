"""Figures from samples and from /proc: percentiles, resident memory, CPU time."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (`pct` in 0..100); NaN when there are no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99 and max of some latencies, and how many there were."""
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": percentile(ordered, 50),
        "p95": percentile(ordered, 95),
        "p99": percentile(ordered, 99),
        "max": ordered[-1] if ordered else math.nan,
    }


def sample(values: Sequence[float], at_most: int = 5000) -> list[float]:
    """An evenly spread subset of sorted values, small enough to keep for a plot."""
    ordered = sorted(values)
    if len(ordered) <= at_most:
        return [round(v, 3) for v in ordered]
    step = len(ordered) / at_most
    return [round(ordered[int(i * step)], 3) for i in range(at_most)]


def rss_mib(pid: int) -> float:
    """Resident memory of a process (VmRSS), MiB; 0 once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Direct children of a process (the dramatiq CLI forks its worker processes)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(child) for child in path.read_text().split()]
    except FileNotFoundError:
        return []


class CpuWindow:
    """CPU seconds a set of processes spends between `start()` and `stop()`."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.used: dict[str, float] = {}
        self._before: dict[str, float] = {}
        self.seconds = 0.0
        self._t0 = 0.0

    def start(self) -> CpuWindow:
        self._before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._t0 = time.monotonic()
        return self

    def stop(self) -> dict[str, float]:
        self.seconds = time.monotonic() - self._t0
        self.used = {name: cpu_seconds(pid) - self._before[name] for name, pid in self.pids.items()}
        return self.used

    def share(self, name: str) -> float:
        """Cores used on average by one process over the window (1.0 = one core busy)."""
        return self.used[name] / self.seconds if self.seconds else math.nan


class PeakRss(threading.Thread):
    """Samples the summed resident memory of some processes every `every` s; keeps the peak."""

    def __init__(self, pids: Iterable[int], every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pids = list(pids)
        self.every = every
        self.peak = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.every):
            self.peak = max(self.peak, sum(rss_mib(pid) for pid in self.pids))

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.peak
