"""Per-owner quotas on real Redis and databases: the token bucket, active jobs, leases."""

from __future__ import annotations

import time
import uuid

from store import jobs
from store.access.quota import Quotas
from store.backends import Backends


def owner() -> str:
    return f"owner-{uuid.uuid4().hex[:8]}"


def test_a_burst_is_allowed_then_the_wait_is_the_refill_time(backends: Backends) -> None:
    quotas, who = Quotas(backends), owner()
    waits = [quotas.take_submission(who, per_minute=6, burst=3) for _ in range(4)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert 9.0 < waits[3] <= 10.0  # six a minute: the next token in at most 10 s
    assert quotas.take_submission(owner(), per_minute=6, burst=3) == 0.0  # per owner


def test_tokens_come_back_at_the_rate(backends: Backends) -> None:
    quotas, who = Quotas(backends), owner()
    assert quotas.take_submission(who, per_minute=600, burst=1) == 0.0
    wait = quotas.take_submission(who, per_minute=600, burst=1)
    assert 0 < wait <= 0.1
    time.sleep(wait + 0.02)  # the refill is a matter of time, there is no event to await
    assert quotas.take_submission(who, per_minute=600, burst=1) == 0.0


def test_a_group_takes_every_token_or_none(backends: Backends) -> None:
    quotas, who, other = Quotas(backends), owner(), owner()
    assert quotas.take_submissions([who, other, who], per_minute=6, burst=2)
    assert not quotas.take_submissions([other, who], per_minute=6, burst=2)  # who: none left
    assert quotas.take_submission(other, per_minute=6, burst=2) == 0.0  # other kept its last
    assert quotas.take_submission(other, per_minute=6, burst=2) > 0


def test_active_jobs_are_the_pending_running_and_retrying_ones(backends: Backends) -> None:
    quotas, who = Quotas(backends), owner()
    made = [jobs.create(backends, type="chat", params={"prompt": "x"}, owner=who) for _ in range(3)]
    jobs.claim(backends, made[1].id)
    assert quotas.active_jobs(who, up_to=10) == 3
    assert quotas.active_jobs(who, up_to=2) == 2  # counting stops at the cap
    jobs.fail(backends, made[2].id, None, {"code": "internal", "message": "x"})
    assert quotas.active_jobs(who, up_to=10) == 2
    assert quotas.active_jobs(owner(), up_to=10) == 0


def test_connection_leases_are_capped_released_and_expire(backends: Backends) -> None:
    quotas, who = Quotas(backends), owner()
    assert quotas.acquire_connection(who, "a", cap=2, lease_s=60)
    assert quotas.acquire_connection(who, "b", cap=2, lease_s=60)
    assert not quotas.acquire_connection(who, "c", cap=2, lease_s=60)
    quotas.release_connection(who, "a")
    assert quotas.acquire_connection(who, "c", cap=2, lease_s=60)
    assert quotas.open_connections(who) == 2

    other = owner()  # a web process died holding this lease: it runs out
    assert quotas.acquire_connection(other, "x", cap=1, lease_s=0.05)
    assert not quotas.acquire_connection(other, "y", cap=1, lease_s=0.05)
    time.sleep(0.1)
    assert quotas.acquire_connection(other, "y", cap=1, lease_s=60)


def test_renewed_leases_outlive_their_first_term(backends: Backends) -> None:
    quotas, who = Quotas(backends), owner()
    assert quotas.acquire_connection(who, "kept", cap=1, lease_s=0.1)
    quotas.renew_connections([(who, "kept")], lease_s=60)
    time.sleep(0.15)
    assert not quotas.acquire_connection(who, "other", cap=1, lease_s=60)
