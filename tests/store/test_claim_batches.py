"""Claims and completions in batches (jobs.claim_many, jobs.complete_many), on SQLite and
PostgreSQL: the same moves as one job at a time, each written once, fenced by attempt."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from redis import Redis

from store import jobs
from store.backends import Backends
from store.errors import IllegalTransition, JobNotFound, StaleAttempt
from store.events import EventChannel, Publish
from store.keys import Keys
from store.retries import Backoff, Failure
from tests.fault_fixtures import OwnRedis


def new_jobs(b: Backends, count: int) -> list[str]:
    return [jobs.create(b, type="chat", params={"prompt": "hi"}).id for _ in range(count)]


def status_events(b: Backends, job_id: str) -> list[dict[str, object]]:
    events = b.events.replay(job_id, 0) or []
    return [json.loads(e.raw) for e in events if e.kind == "status"]


def test_claim_many_claims_only_pending_and_retrying_jobs(backends: Backends) -> None:
    pending, retrying, running, cancelled = new_jobs(backends, 4)
    jobs.claim(backends, retrying)
    jobs.end_attempt(backends, retrying, 1, Failure("llm_error", "503", True), Backoff(), None)
    jobs.claim(backends, running)
    jobs.cancel(backends, cancelled)
    asked = [pending, retrying, running, cancelled, "no-such-job"]
    claimed = {job.id: job for job in jobs.claim_many(backends, asked, worker="w:1")}
    assert sorted(claimed) == sorted([pending, retrying])
    assert (claimed[pending].attempts, claimed[retrying].attempts) == (1, 2)
    for job_id, job in claimed.items():
        row = jobs.get(backends, job_id)
        assert (row.status, row.worker, row.message, row.attempts) == (
            "running", "w:1", "Started", job.attempts,
        )  # fmt: skip
        assert row.heartbeat_at is not None and row.retry_at is None and row.error is None
        running_events = [e for e in status_events(backends, job_id) if e["status"] == "running"]
        assert running_events[-1]["attempt"] == job.attempts
        assert running_events[-1]["seq"] == job.seq == backends.events.snapshot(job_id).seq
        assert row.seq <= job.seq  # the row's seq is a floor for the next event
    assert jobs.get(backends, running).attempts == 1
    assert jobs.get(backends, cancelled).status == "cancelled"


def test_the_events_after_a_batched_claim_number_on_without_gaps(backends: Backends) -> None:
    [job_id] = new_jobs(backends, 1)
    [job] = jobs.claim_many(backends, [job_id])
    assert job.seq == 1
    [done] = jobs.complete_many(backends, [jobs.Completion(job_id, 1, {"text": "x"}, {})])
    assert [e["seq"] for e in status_events(backends, job_id)] == [1, 2]
    assert not isinstance(done, Exception) and done.seq == 2


def test_overlapping_batches_claim_each_job_once(backends: Backends) -> None:
    ids = new_jobs(backends, 12)
    batches = [ids[:8], ids[4:], list(reversed(ids)), ids[::2]]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(jobs.claim_many, [backends] * 4, batches))
    claimed = [job.id for batch in results for job in batch]
    assert sorted(claimed) == sorted(ids)
    for job_id in ids:
        assert jobs.get(backends, job_id).attempts == 1
        assert [e["status"] for e in status_events(backends, job_id)] == ["running"]


def test_complete_many_ends_each_current_attempt_once(backends: Backends) -> None:
    first, second, stale, cancelled = new_jobs(backends, 4)
    for job_id in (first, second, stale, cancelled):
        jobs.claim(backends, job_id)
    backends.redis.set(backends.keys.output(first), "streamed text")
    jobs.cancel(backends, cancelled)
    usage = {"provider": "simulated", "llm_calls": 2}
    ends = [
        jobs.Completion(first, 1, {"text": "one"}, usage),
        jobs.Completion(stale, 5, {"text": "late"}, usage),
        jobs.Completion(cancelled, 1, {"text": "late"}, usage),
        jobs.Completion("no-such-job", 1, {}, {}),
        jobs.Completion(second, 1, {"text": "two"}, {}),
        jobs.Completion(second, 1, {"text": "twice"}, {}),  # a second end of the same attempt
    ]
    done = jobs.complete_many(backends, ends)
    assert [type(d).__name__ for d in done] == [
        "Job", "StaleAttempt", "IllegalTransition", "JobNotFound", "Job", "IllegalTransition",
    ]  # fmt: skip
    assert isinstance(done[1], StaleAttempt) and isinstance(done[2], IllegalTransition)
    assert isinstance(done[3], JobNotFound)
    row = jobs.get(backends, first)
    assert (row.status, row.progress, row.result, row.message) == (
        "completed", 100, {"text": "one"}, "Completed",
    )  # fmt: skip
    assert (row.output, row.usage, row.finished_at is not None) == ("streamed text", usage, True)
    assert jobs.get(backends, second).result == {"text": "two"}
    assert jobs.get(backends, stale).status == "running"
    assert jobs.get(backends, cancelled).result is None
    for job_id in (first, second):
        ends_seen = [e for e in status_events(backends, job_id) if e["status"] == "completed"]
        assert len(ends_seen) == 1 and ends_seen[0]["seq"] == jobs.get(backends, job_id).seq
    assert [e["status"] for e in status_events(backends, cancelled)] == ["running", "cancelled"]


def test_an_attempt_taken_over_cannot_complete_in_a_batch(backends: Backends) -> None:
    [job_id] = new_jobs(backends, 1)
    jobs.claim_many(backends, [job_id], worker="partitioned:1")
    jobs.abandon(backends, job_id, 1, Backoff(base=0))  # its worker was lost: retried
    [again] = jobs.claim_many(backends, [job_id], worker="other:2")
    done = jobs.complete_many(backends, [jobs.Completion(job_id, 1, {"text": "old"}, {})])
    assert isinstance(done[0], StaleAttempt)
    row = jobs.get(backends, job_id)
    assert (row.status, row.attempts, row.worker, row.result) == ("running", 2, "other:2", None)
    assert again.attempts == 2


def test_claims_and_completions_share_one_commit(backends: Backends) -> None:
    running, pending = new_jobs(backends, 2)
    jobs.claim(backends, running)
    end = jobs.Completion(running, 1, {"text": "done"}, {})
    claimed, done = jobs.group_commit(backends, [pending], [end], worker="w:1")
    assert [job.id for job in claimed] == [pending]
    assert [getattr(d, "id", d) for d in done] == [running]
    assert (jobs.get(backends, running).status, jobs.get(backends, pending).status) == (
        "completed", "running",
    )  # fmt: skip


def test_batched_events_go_on_after_redis_lost_the_script(own_redis: OwnRedis) -> None:
    redis = Redis.from_url(own_redis.url)
    channel = EventChannel(redis, Keys("scripts"), ttl=60)
    try:
        assert channel.publish_many([Publish("j", "progress", {"progress": 1}, 1)]) == [1]
        redis.script_flush()
        more = [Publish("j", "progress", {"progress": 2}, 1), Publish("k", "status", {}, 1)]
        assert channel.publish_many(more) == [2, 1]
    finally:
        redis.close()
