"""Processes by pid, read from /proc: which are still alive, in a group or a session."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _stat(pid: int | str) -> list[str] | None:
    """The fields after the command name: state, ppid, pgrp, session, …"""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"  # a zombie has exited


def alive_in(*, group: int | None = None, session: int | None = None) -> list[int]:
    """Live processes of a process group or a session (what a signal to it would reach,
    or a terminal's hang-up), zombies left out."""
    found = []
    for entry in Path("/proc").iterdir():
        fields = _stat(entry.name) if entry.name.isdigit() else None
        if fields is None or fields[0] == "Z":
            continue
        if group is not None and int(fields[2]) != group:
            continue
        if session is not None and int(fields[3]) != session:
            continue
        found.append(int(entry.name))
    return found


@contextlib.contextmanager
def reaped(session: int) -> Iterator[None]:
    """On the way out, SIGKILL whatever of the session is still alive, so that a failing
    test leaves no process behind (a test checks what was left before this runs)."""
    try:
        yield
    finally:
        for pid in alive_in(session=session):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
