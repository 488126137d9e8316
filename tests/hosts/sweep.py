"""Removing beds: one by its id, or every bed whose maker has died (the sweep).

A bed's directory, /tmp/jobcast-hosts/<id>/, holds `owner`: the pid of the process that
made it, or `manual` for a bed made by `scripts/hosts.py up`, kept until `down`. Every
`up` sweeps first, so a killed test run leaves nothing behind for long. Only names that
start with a bed's id are touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from pathlib import Path

from tests.hosts import net
from tests.processes import alive

BEDS = Path("/tmp/jobcast-hosts")
POSTGRES_STOP_S = 20.0


def teardown(bed_id: str) -> None:
    """Kill whatever runs in the bed's namespaces, delete them and the bridge, and the
    bed's directory. Safe to call on a half-built or already removed bed."""
    _stop_postgres(bed_id)
    for namespace in net.namespaces():
        if namespace.startswith(f"{bed_id}-"):
            for pid in net.pids_in(namespace):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    net.remove(bed_id)
    shutil.rmtree(BEDS / bed_id, ignore_errors=True)


def _stop_postgres(bed_id: str) -> None:
    """A fast shutdown (SIGINT) first: a killed PostgreSQL leaves its System V shared
    memory segment behind, on a machine that others share."""
    pidfile = BEDS / bed_id / "pg" / "postmaster.pid"
    if not pidfile.exists():
        return
    pid = int(pidfile.read_text().split("\n", 1)[0])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + POSTGRES_STOP_S
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # no event to await from a process we may not have started


def sweep() -> list[str]:
    """Tear down the beds whose owner process is gone (or never wrote its mark)."""
    ids = {ns.split("-", 1)[0] for ns in net.namespaces() if ns.startswith(net.PREFIX)}
    ids |= {d.name for d in BEDS.glob(f"{net.PREFIX}*")} if BEDS.exists() else set()
    stale = [bed_id for bed_id in sorted(ids) if not _owned(bed_id)]
    for bed_id in stale:
        teardown(bed_id)
    return stale


def _owned(bed_id: str) -> bool:
    mark = BEDS / bed_id / "owner"
    if not mark.exists():  # a bed made this very moment writes its mark first thing
        folder = BEDS / bed_id
        return folder.exists() and time.time() - folder.stat().st_mtime < 60
    owner = mark.read_text().strip()
    return owner == "manual" or (owner.isdigit() and alive(int(owner)))
