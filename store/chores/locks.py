"""Chores that every worker offers to do, done by one of them per interval."""

from __future__ import annotations

from store.backends import Backends


def take_turn(b: Backends, chore: str, every_s: float) -> bool:
    """True for the one caller per `every_s` seconds that should do `chore` now.

    The key simply expires: a worker that dies mid-chore holds no lock for long, and
    after a Redis restart the next caller goes first. The chores are safe to overlap
    anyway; this only saves repeating them.
    """
    return bool(b.redis.set(b.keys.lock(chore), "1", nx=True, px=max(int(every_s * 1000), 1)))
