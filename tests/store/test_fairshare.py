"""The fair pick on a real Redis: turns by start tag, weights, running caps, priority
within an owner, and slots that come back when their worker stops renewing them."""

from __future__ import annotations

import time
import uuid

import pytest

from store import fairshare
from store.backends import Backends
from store.fairshare import CAPPED, FairPolicy, Picked, parse_owner_values
from store.keys import Keys

LEASE_S = 30.0


@pytest.fixture
def b(backends: Backends) -> Backends:
    """The test's own namespace, so no other test's waiting jobs are picked."""
    return Backends(
        backends.engine,
        backends.reader,
        backends.redis,
        Keys(f"{backends.keys.namespace}:fair-{uuid.uuid4().hex[:8]}"),
        backends.events,
    )


def _queue(b: Backends, owner: str, count: int, priority: int = 0) -> list[str]:
    ids = [f"{owner}-{priority}-{n}" for n in range(count)]
    for job_id in ids:
        fairshare.add(b, owner, job_id, priority)
    return ids


def _owners_of_picks(b: Backends, policy: FairPolicy, count: int) -> str:
    picks = [fairshare.pick(b, policy, LEASE_S) for _ in range(count)]
    return "".join(p.owner if isinstance(p, Picked) else "-" for p in picks)


def test_a_newcomer_goes_next_instead_of_behind_the_backlog(b: Backends) -> None:
    _queue(b, "a", 50)
    assert _owners_of_picks(b, FairPolicy(), 10) == "a" * 10
    _queue(b, "b", 3)
    assert _owners_of_picks(b, FairPolicy(), 8) == "bababaaa"


def test_weights_share_turns_in_proportion(b: Backends) -> None:
    _queue(b, "a", 30)
    _queue(b, "b", 30)
    turns = _owners_of_picks(b, FairPolicy(weights={"a": 2.0}), 30)
    assert (turns.count("a"), turns.count("b")) == (20, 10)


def test_priority_orders_jobs_within_an_owner_only(b: Backends) -> None:
    low = _queue(b, "a", 2, priority=-1)
    high = _queue(b, "a", 2, priority=5)
    normal = _queue(b, "a", 1)
    picks = [fairshare.pick(b, FairPolicy(), LEASE_S) for _ in range(6)]
    assert [p.job_id for p in picks if isinstance(p, Picked)] == high + normal + low
    assert picks[-1] is None


def test_an_owner_at_its_cap_waits_for_a_slot_to_come_back(b: Backends) -> None:
    policy = FairPolicy(caps={"a": 2})
    _queue(b, "a", 5)
    first = [fairshare.pick(b, policy, LEASE_S) for _ in range(2)]
    assert fairshare.pick(b, policy, LEASE_S) == CAPPED
    _queue(b, "b", 1)
    assert _owners_of_picks(b, policy, 1) == "b"  # others are not held back by a's cap
    assert isinstance(first[0], Picked)
    fairshare.release(b, "a", first[0].job_id)
    assert _owners_of_picks(b, policy, 2) == "a-"


def test_a_slot_no_one_renews_expires(b: Backends) -> None:
    """A killed worker stops renewing its slots: they come back a lease later."""
    policy = FairPolicy(caps={"*": 1})
    _queue(b, "a", 3)
    kept = fairshare.pick(b, policy, 0.3)
    assert isinstance(kept, Picked)
    fairshare.renew(b, {kept.job_id: "a"}, LEASE_S)  # renewed: held past the first lease
    time.sleep(0.4)  # the lease itself is what is tested; no event marks its end
    assert fairshare.pick(b, policy, 0.3) == CAPPED
    fairshare.release(b, "a", kept.job_id)
    lost = fairshare.pick(b, policy, 0.3)  # its worker dies: no renewal, no release
    assert isinstance(lost, Picked)
    assert fairshare.pick(b, policy, 0.3) == CAPPED
    time.sleep(0.4)
    assert _owners_of_picks(b, policy, 1) == "a"


def test_owner_values_as_a_user_writes_them() -> None:
    assert parse_owner_values("alice=2, bob=0.5,*=1", float) == {"alice": 2, "bob": 0.5, "*": 1}
    assert parse_owner_values("", int) == {}
    for raw, says in [
        ("alice", "'alice' is not owner=value"),
        ("alice=1.5", "'alice=1.5': '1.5' is not a whole number"),
        ("alice=0", "'alice=0': the value must be above 0"),
        ("alice=1,alice=2", "owner 'alice' is given twice"),
    ]:
        with pytest.raises(ValueError) as raised:
            parse_owner_values(raw, int)
        assert str(raised.value) == says
