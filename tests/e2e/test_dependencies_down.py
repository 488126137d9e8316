"""Redis or the database away: quick, documented answers, and nothing accepted is lost."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.client import Received, connect, read_all, read_until
from tests.fault_fixtures import OwnRedis
from tests.faults import FAST_RECOVERY, start_fault_stack, submit_job, wait_status
from tests.tcp_proxy import TcpProxy


async def test_with_redis_stopped_a_submit_is_accepted_and_runs_once_redis_is_back(
    tmp_path: Path, own_redis: OwnRedis
) -> None:
    stack = start_fault_stack(tmp_path, own_redis.url, FAST_RECOVERY)
    try:
        running = submit_job(stack, "long_chat", {"rounds": 3})
        async with connect(stack.events_url(running)) as ws:
            received = Received()
            await read_until(ws, received, lambda m: m["type"] == "output")
            own_redis.stop()
            await read_all(ws, received)
        # The web process lost Redis: its clients are told to come back (1012) …
        assert received.close_code == 1012

        with stack.api() as api:
            started = time.monotonic()
            response = api.post("/jobs", json={"type": "long_chat", "params": {"rounds": 1}})
            submit_took = time.monotonic() - started
            polled = api.get(f"/jobs/{response.json()['id']}")
            started = time.monotonic()
            cancel = api.post(f"/jobs/{running}/cancel")
            cancel_took = time.monotonic() - started
        # … and a submit is still accepted at once: the row is committed.
        assert response.status_code == 202, response.text
        assert submit_took < 5
        assert (polled.status_code, polled.json()["status"]) == (200, "pending")
        # Cancelling needs Redis (to stop the worker): a quick 503, and nothing changes.
        assert (cancel.status_code, cancel.json()["error"]["code"]) == (503, "unavailable")
        assert cancel_took < 5

        own_redis.start()  # empty: every key, queue and event is gone
        accepted = wait_status(stack, response.json()["id"], {"completed", "failed"}, 60)
        interrupted = wait_status(stack, running, {"completed", "failed"}, 60)
        # The client that was cut off resumes from its last event and sees the end.
        async with connect(stack.events_url(running, after=received.seqs[-1])) as ws:
            resumed = await read_all(ws)
    finally:
        stack.stop()
    assert (accepted["status"], interrupted["status"]) == ("completed", "completed")
    assert resumed.close_code == 1000
    last = resumed.messages[-1]
    assert last.get("status", last.get("job", {}).get("status")) == "completed"


def test_with_the_database_away_the_api_answers_503_within_5_s(
    tmp_path: Path, own_redis: OwnRedis
) -> None:
    stack = start_fault_stack(tmp_path, own_redis.url, FAST_RECOVERY, database_dir="db")
    try:
        job_id = submit_job(stack, "flaky", {})
        wait_status(stack, job_id, {"completed"})
        database, away = tmp_path / "db", tmp_path / "db-away"
        shutil.move(database, away)  # the SQLite file can no longer be opened
        with stack.api() as api:
            answers = []
            for method, path in [("POST", "/jobs"), ("GET", f"/jobs/{job_id}"), ("GET", "/jobs")]:
                started = time.monotonic()
                body = {"type": "flaky", "params": {}} if method == "POST" else None
                response = api.request(method, path, json=body)
                answers.append((response.status_code, time.monotonic() - started, response))
            scraped = api.get("/metrics")  # still answers, and says what is down
            shutil.move(away, database)
            after = api.get(f"/jobs/{job_id}")
    finally:
        stack.stop()
    for status, took, response in answers:
        assert status == 503, response.text
        assert response.json()["error"]["code"] == "unavailable"
        assert took < 5
    assert (after.status_code, after.json()["status"]) == (200, "completed")
    assert scraped.status_code == 200
    lines = scraped.text.splitlines()
    assert {"jobcast_database_up 0.0", "jobcast_redis_up 1.0"} <= set(
        lines
    )  # prometheus-client's format
    assert not any(line.startswith("jobcast_jobs{") for line in lines)


def test_with_postgresql_unreachable_the_api_answers_503_within_5_s(
    tmp_path: Path, own_redis: OwnRedis, postgres_url: str
) -> None:
    address = urlsplit(postgres_url)
    proxy = TcpProxy((address.hostname or "127.0.0.1", address.port or 5432))
    proxy.restore()
    credentials = address.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{proxy.port}" if credentials else f"127.0.0.1:{proxy.port}"
    through_proxy = address._replace(netloc=netloc)
    stack = start_fault_stack(
        tmp_path, own_redis.url, FAST_RECOVERY, database_url=urlunsplit(through_proxy)
    )
    try:
        job_id = submit_job(stack, "flaky", {})
        wait_status(stack, job_id, {"completed"})
        proxy.cut()  # open connections drop, new ones are refused
        with stack.api() as api:
            answers = []
            for method, path in [("POST", "/jobs"), ("GET", f"/jobs/{job_id}"), ("GET", "/jobs")]:
                started = time.monotonic()
                body = {"type": "flaky", "params": {}} if method == "POST" else None
                response = api.request(method, path, json=body)
                answers.append((response.status_code, time.monotonic() - started, response))
            proxy.restore()
            after = api.get(f"/jobs/{job_id}")
    finally:
        stack.stop()
        proxy.cut()
    for status, took, response in answers:
        assert status == 503, response.text
        assert took < 5
    assert (after.status_code, after.json()["status"]) == (200, "completed")
