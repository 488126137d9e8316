"""The event channel: numbering, replay, live view, and what survives a lost counter."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from redis import Redis

from store.events import EventChannel
from store.keys import Keys


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def keys(namespace: str) -> Keys:
    return Keys(namespace)


def channel(redis: Redis, keys: Keys, log_size: int = 100) -> EventChannel:
    return EventChannel(redis, keys, ttl=60, log_size=log_size)


def new_id() -> str:
    return uuid.uuid4().hex


def test_seq_counts_up_by_one_and_replay_returns_what_follows(redis: Redis, keys: Keys) -> None:
    job = new_id()
    events = channel(redis, keys)
    seqs = [
        events.publish(job, "progress", {"progress": n}, attempt=1, view={"progress": n})
        for n in range(5)
    ]
    assert seqs == [1, 2, 3, 4, 5]
    replayed = events.replay(job, 2)
    assert replayed is not None
    assert [e.seq for e in replayed] == [3, 4, 5]
    assert json.loads(replayed[0].raw)["progress"] == 2
    assert events.replay(job, 5) == []
    assert events.replay(job, 9) is None  # a client ahead of Redis gets a fresh snapshot
    assert events.snapshot(job).fields["progress"] == 4


def test_replay_says_so_when_the_log_no_longer_holds_the_events(redis: Redis, keys: Keys) -> None:
    job = new_id()
    events = channel(redis, keys, log_size=3)
    for n in range(6):
        events.publish(job, "progress", {"progress": n}, attempt=1)
    assert events.replay(job, 1) is None
    replayed = events.replay(job, 3)
    assert replayed is not None and [e.seq for e in replayed] == [4, 5, 6]


def test_output_appends_within_a_stage_and_restarts_with_a_new_one(
    redis: Redis, keys: Keys
) -> None:
    job = new_id()
    events = channel(redis, keys)
    for stage, delta in [("a", "Hel"), ("a", "lo"), ("b", "Wor"), ("b", "ld")]:
        events.publish(job, "output", {"stage": stage, "delta": delta}, attempt=1)
        if delta == "lo":
            assert events.snapshot(job).output == "Hello"
    snap = events.snapshot(job)
    assert (snap.seq, snap.output) == (4, "World")


def test_numbering_continues_from_the_database_when_redis_lost_the_counter(
    redis: Redis, keys: Keys
) -> None:
    job = new_id()
    events = channel(redis, keys)
    events.publish(job, "progress", {"progress": 1}, attempt=1)
    redis.delete(*keys.job_keys(job))
    assert events.publish(job, "progress", {"progress": 2}, attempt=1, floor=17) == 18


def test_events_of_another_attempt_are_refused(redis: Redis, keys: Keys) -> None:
    job = new_id()
    events = channel(redis, keys)
    events.publish(job, "status", {"status": "running"}, attempt=2)
    assert events.publish(job, "progress", {"progress": 5}, attempt=1) == 0
    assert events.publish(job, "progress", {"progress": 5}, attempt=2) == 2


def test_every_event_is_published_on_the_jobs_channel(
    redis: Redis, keys: Keys, redis_url: str
) -> None:
    job = new_id()
    events = channel(redis, keys)
    listener = Redis.from_url(redis_url).pubsub()
    listener.subscribe(keys.channel(job))
    confirmation = listener.get_message(timeout=5)
    assert confirmation is not None and confirmation["type"] == "subscribe"
    events.publish(job, "output", {"stage": "s", "delta": "x"}, attempt=1)
    message = listener.get_message(timeout=5)
    assert message is not None
    assert json.loads(message["data"]) | {"ts": None} == {
        "seq": 1,
        "job_id": job,
        "type": "output",
        "ts": None,
        "stage": "s",
        "delta": "x",
    }
    listener.close()
