"""How `make test` spreads the suite over pytest-xdist workers (`-n 3 --dist loadfile`).

Each worker is a pytest session of its own, with its own Valkey, SQLite files, PostgreSQL
database, key namespace and session stacks (tests/conftest.py): they share nothing but
the machine. What this module adds to xdist's `loadfile`:

- a file is one unit, as in `loadfile`, except tests/browser/, which is one unit as a
  whole: its tests share a package-scoped Chromium, launched once, not once per worker;
- the files known to take longest are dealt first, so that none of them starts last and
  keeps one worker busy while the others have finished.

A single-file run (`pytest tests/x.py`) runs in-process as before: none of this applies.
"""

from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadFileScheduling

BROWSER = "tests/browser/"

# Slowest first, with the seconds each took in `make pytest` on 2 cores (2026-12-04,
# 3 workers). A file not listed here keeps its place after these.
SLOWEST = (
    "tests/e2e/test_stop_signals.py",  # ~150 s: 2 × 10 rounds of stopping real processes
    "tests/test_bench_smoke.py",  # ~110 s: nine scenarios, each with its own processes
    "tests/web/test_fuzz.py",  # ~85 s
    "tests/e2e/test_killed_workers.py",  # ~80 s
    "tests/e2e/test_hosts.py",  # ~60-90 s: the namespace bed and its faults
    BROWSER,
    "tests/e2e/test_fair_share.py",  # ~55 s
    "tests/e2e/test_shutdown.py",
    "tests/e2e/test_ws_abuse.py",
)


def unit_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its file, or the browser package."""
    return BROWSER if nodeid.startswith(BROWSER) else nodeid.split("::", 1)[0]


def rank(nodeid: str) -> int:
    unit = unit_of(nodeid)
    return SLOWEST.index(unit) if unit in SLOWEST else len(SLOWEST)


class SuiteScheduling(LoadFileScheduling):
    """`loadfile`, with tests/browser/ as one unit (see the module's docstring)."""

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)


class Plugin:
    """Registered by tests/conftest.py when xdist runs the suite."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if config.getoption("dist") != "loadfile":
            return None
        # Units are dealt in collection order, which workers sort (below); xdist's own
        # reordering (by number of tests per unit) would undo that.
        config.option.loadscopereorder = False
        return SuiteScheduling(config, log)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        if hasattr(config, "workerinput"):  # a worker; every worker sorts alike
            items.sort(key=lambda item: rank(item.nodeid))  # stable: files stay whole
