"""Group commit at the store: submissions judged one by one, committed together, on real
SQLite and PostgreSQL. What a client of each submission would notice: its own answer,
whatever the others of its group were."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import Session, col, select

from store.access.group_commit import submit_group
from store.access.quota import Quotas, SubmissionLimits
from store.access.submissions import Submission, submit
from store.backends import Backends
from store.errors import KeyReused, RateLimited, TooManyActiveJobs, UnknownParent
from store.models import Job


def chat(owner: str, prompt: str = "grouped", key: str | None = None) -> Submission:
    return Submission(owner=owner, type="chat", params={"prompt": prompt}, idempotency_key=key)


def owner() -> str:
    return f"group-{uuid.uuid4().hex[:8]}"


def rows_of(b: Backends, who: str) -> list[Job]:
    with Session(b.engine) as session:
        return list(session.exec(select(Job).where(col(Job.owner) == who)))


def test_a_group_inserts_every_submission_with_its_own_id(backends: Backends) -> None:
    who = owner()
    outcomes = submit_group(backends, [chat(who, f"p{i}") for i in range(5)], limits=None)
    assert all(not isinstance(o, Exception) and o[1] for o in outcomes)
    ids = [o[0].id for o in outcomes if not isinstance(o, Exception)]
    assert len(set(ids)) == 5
    stored = {job.id: job.params["prompt"] for job in rows_of(backends, who)}
    assert stored == {job_id: f"p{i}" for i, job_id in enumerate(ids)}


def test_the_submission_over_the_cap_is_refused_and_the_others_land(backends: Backends) -> None:
    who, other = owner(), owner()
    limits = SubmissionLimits(Quotas(backends), per_minute=6000, burst=1000, max_active=3)
    submit(backends, chat(who, "before"), limits)  # one already pending: room for two more
    group = [chat(who, "a"), chat(other, "b"), chat(who, "c"), chat(who, "d"), chat(other, "e")]
    outcomes = submit_group(backends, group, limits)
    assert isinstance(outcomes[3], TooManyActiveJobs)  # the owner's fourth unfinished job
    assert [isinstance(o, tuple) for o in outcomes] == [True, True, True, False, True]
    assert sorted(job.params["prompt"] for job in rows_of(backends, who)) == ["a", "before", "c"]
    assert sorted(job.params["prompt"] for job in rows_of(backends, other)) == ["b", "e"]


def test_the_rate_refuses_in_order_once_the_owner_is_out_of_tokens(backends: Backends) -> None:
    who, other = owner(), owner()
    limits = SubmissionLimits(Quotas(backends), per_minute=6, burst=3, max_active=100)
    submit(backends, chat(who, "before"), limits)  # one token spent: two left
    group = [chat(who, "a"), chat(other, "b"), chat(who, "c"), chat(who, "d"), chat(other, "e")]
    outcomes = submit_group(backends, group, limits)
    assert isinstance(outcomes[3], RateLimited)  # the owner's fourth token this minute
    assert outcomes[3].retry_after is not None and 9 <= outcomes[3].retry_after <= 10
    assert [isinstance(o, tuple) for o in outcomes] == [True, True, True, False, True]
    assert sorted(job.params["prompt"] for job in rows_of(backends, who)) == ["a", "before", "c"]
    # Both owners' tokens were taken, one each, as alone: none left for either now.
    assert isinstance(submit_group(backends, [chat(who)], limits)[0], RateLimited)
    assert not isinstance(submit_group(backends, [chat(other)], limits)[0], Exception)


def test_a_key_used_twice_in_a_group_names_one_job(backends: Backends) -> None:
    who, key = owner(), uuid.uuid4().hex
    group = [chat(who, "same", key), chat(who, "other"), chat(who, "same", key)]
    first, _, replay = submit_group(backends, group, limits=None)
    assert isinstance(first, tuple) and isinstance(replay, tuple)
    assert first == (first[0], True) and replay[1] is False
    assert replay[0].id == first[0].id
    assert len(rows_of(backends, who)) == 2
    # and the key is remembered: a later request with it is a replay of that job
    job, created = submit(backends, chat(who, "same", key), limits=None)
    assert (job.id, created) == (first[0].id, False)


def test_a_key_reused_for_another_request_in_a_group_is_refused_alone(
    backends: Backends,
) -> None:
    who, key = owner(), uuid.uuid4().hex
    outcomes = submit_group(backends, [chat(who, "x", key), chat(who, "y", key)], limits=None)
    assert isinstance(outcomes[0], tuple) and isinstance(outcomes[1], KeyReused)
    assert [job.params["prompt"] for job in rows_of(backends, who)] == ["x"]


def test_a_replay_of_a_committed_key_spends_nothing_in_a_group(backends: Backends) -> None:
    who, key = owner(), uuid.uuid4().hex
    limits = SubmissionLimits(Quotas(backends), per_minute=6000, burst=1000, max_active=2)
    known, _ = submit(backends, chat(who, "known", key), limits)
    outcomes = submit_group(backends, [chat(who, "known", key), chat(who, "new")], limits)
    assert outcomes[0] == (known, False) or (
        isinstance(outcomes[0], tuple) and outcomes[0][0].id == known.id and not outcomes[0][1]
    )
    assert isinstance(outcomes[1], tuple) and outcomes[1][1]  # the cap's second place
    assert len(rows_of(backends, who)) == 2


def test_an_unknown_parent_fails_only_its_submission(backends: Backends) -> None:
    who = owner()
    orphan = Submission(owner=who, type="chat", params={"prompt": "o"}, parent_id="f" * 32)
    outcomes = submit_group(backends, [chat(who, "kept"), orphan], limits=None)
    assert isinstance(outcomes[0], tuple) and isinstance(outcomes[1], UnknownParent)
    assert [job.params["prompt"] for job in rows_of(backends, who)] == ["kept"]


def test_groups_racing_for_one_key_make_one_job_and_lose_none_of_the_rest(
    backends: Backends,
) -> None:
    who, key = owner(), uuid.uuid4().hex

    def one(i: int) -> list[tuple[str, bool]]:
        group = [chat(who, "raced", key), chat(who, f"own {i}")]
        outcomes = submit_group(backends, group, limits=None)
        return [(o[0].id, o[1]) for o in outcomes if not isinstance(o, Exception)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(8)))
    keyed = [result[0] for result in results]
    assert len({job_id for job_id, _ in keyed}) == 1
    assert [created for _, created in keyed].count(True) == 1
    own = [result[1] for result in results]
    assert all(created for _, created in own) and len({job_id for job_id, _ in own}) == 8
    assert len(rows_of(backends, who)) == 9
