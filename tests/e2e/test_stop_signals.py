"""Stopping jobcast the ways users do, round after round, with a job streaming each time:
every process exits within the grace period, and the job is handed back and completes
on a worker started later.

- SIGTERM to the process group of a plain `dramatiq actors` (systemd's default, or
  `kill -- -PGID`): the CLI and its worker process both get it, and the CLI forwards it.
- Ctrl-C on `make run`: SIGINT to the terminal's foreground group, which holds
  scripts/run.py and its embedded Valkey. That Valkey keeps nothing, so the handed-back
  jobs wait in the database for a later `make run`, whose reconciler sends them again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from store.db import make_engine
from store.models import Job
from tests.client import Received, connect, read_all, read_until
from tests.faults import FaultStack, job_of, start_fault_stack, submit_job
from tests.processes import alive_in, reaped
from tests.stack import ROOT, free_port, wait_for_health

ROUNDS = 10
GRACE_S = 0.5
# Signal to exit: Dramatiq's worker process looks for a stop once a second, then the
# grace, the hand-back, and the CLI's own exit (it polls its log pipes once a second).
EXIT_WITHIN_S = GRACE_S + 4.5
ENV = {
    # The simulated model streams a chat answer for about 2 s: still running when the
    # grace is over, and quick to run again.
    "JOBCAST_SIM_TTFT": "0.05",
    "JOBCAST_SIM_TPS": "20",
    "JOBCAST_SIM_TOKENS": "40",
    "JOBCAST_SHUTDOWN_GRACE": str(GRACE_S),
    "JOBCAST_RECONCILE_INTERVAL": "0.2",
    "JOBCAST_WORKER_HEARTBEAT": "0.5",
}
CHAT = {"prompt": "Tell a long story"}


@dataclass
class Stopped:
    processes: int  # in the signalled session just before the signal
    seconds: float  # from the signal until its leader exited
    code: int
    left: list[int]  # of the session, still alive then


async def stop(leader: subprocess.Popen[bytes], signum: signal.Signals) -> Stopped:
    """Signal the leader's process group, as a terminal or a service manager does."""
    processes = len(alive_in(session=leader.pid))
    signalled = time.monotonic()
    os.killpg(leader.pid, signum)
    code = await asyncio.to_thread(leader.wait, EXIT_WITHIN_S + 10)
    return Stopped(processes, time.monotonic() - signalled, code, alive_in(session=leader.pid))


def is_output(message: dict[str, Any]) -> bool:
    return bool(message["type"] == "output")


def is_status(message: dict[str, Any]) -> bool:
    return bool(message["type"] == "status")


def report(signal_name: str, stops: list[Stopped], lost: int, note: str = "") -> None:
    slowest = max(s.seconds for s in stops)
    left = sum(len(s.left) for s in stops)
    print(
        f"\n{signal_name}: {len(stops)} rounds, {stops[0].processes} processes each, "
        f"{left} left, slowest exit {slowest:.2f} s, {lost} jobs lost{note}"
    )


@pytest.mark.timeout(150)
async def test_sigterm_to_a_dramatiq_process_group_stops_it_and_the_job_runs_again(
    tmp_path: Path, redis_url: str
) -> None:
    stack = start_fault_stack(tmp_path, redis_url, ENV, threads=8, sessions=True)
    stops, handed_back, finished = [], [], []
    try:
        for _ in range(ROUNDS):
            stopped, handed, done = await sigterm_round(stack)
            stops.append(stopped)
            handed_back.append(handed)
            finished.append(done)
    finally:
        stack.stop()
    lost = sum(job["status"] != "completed" for job in finished)
    # Two signals close together may reach the process as one: how many heard two.
    twice = sum("again: already stopping" in w.log.read_text() for w in stack.workers)
    report("SIGTERM to `dramatiq actors`", stops, lost, f" ({twice} heard the stop twice)")
    assert [s.left for s in stops] == [[]] * ROUNDS
    assert [s.code for s in stops] == [0] * ROUNDS
    assert max(s.seconds for s in stops) < EXIT_WITHIN_S, [s.seconds for s in stops]
    assert [(e["status"], e["attempt"], e["error"]["code"]) for e in handed_back] == [
        ("retrying", 1, "worker_shutdown")
    ] * ROUNDS
    assert [(job["status"], job["attempts"]) for job in finished] == [("completed", 2)] * ROUNDS


async def sigterm_round(stack: FaultStack) -> tuple[Stopped, dict[str, Any], dict[str, Any]]:
    """A rolling restart: a job streams on the newest worker, a new worker starts, the
    old one is stopped; the new one completes the job."""
    worker = stack.workers[-1]
    job_id = submit_job(stack, "chat", CHAT)
    received = Received()
    async with connect(stack.events_url(job_id, after=0)) as ws:
        await read_until(ws, received, is_output)
        successor = asyncio.create_task(asyncio.to_thread(stack.start_worker, 8, session=True))
        with reaped(worker.cli.pid):
            stopped = await stop(worker.cli, signal.SIGTERM)
        handed_back = await read_until(ws, received, is_status)
        await successor
        await read_all(ws, received)
    assert received.seqs == list(range(1, len(received.seqs) + 1))  # no gap, no repeat
    return stopped, handed_back, job_of(stack, job_id)


@pytest.mark.timeout(180)
async def test_ctrl_c_on_make_run_stops_every_process_and_the_jobs_run_again(
    tmp_path: Path,
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "JOBCAST_REDIS_NAMESPACE"}  # the embedded Valkey
    }
    database_url = f"sqlite:///{tmp_path / 'dev.db'}"  # kept from one `make run` to the next
    env.update(ENV, PORT=str(port), DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
    # Each round's reconciler waits longer than the round lasts, so the job handed back
    # in one round is not started (and handed back again) in the next: the last
    # `make run` sends them all again at once.
    rounds_env = {**env, "JOBCAST_RECONCILE_INTERVAL": "60"}
    stops, job_ids = [], []
    for _ in range(ROUNDS):
        runner = start_make_run(rounds_env, tmp_path)
        with reaped(runner.pid):
            wait_for_health(base_url, {"run": runner}, tmp_path, timeout=40)
            job_ids.append(submit(base_url))
            stops.append(await ctrl_c_while_streaming(base_url, runner, job_ids[-1]))
    handed_back = [row_of(database_url, job_id) for job_id in job_ids]
    runner = start_make_run(env, tmp_path)
    with reaped(runner.pid):
        wait_for_health(base_url, {"run": runner}, tmp_path, timeout=40)
        finished = [await followed_to_the_end(base_url, job_id) for job_id in job_ids]
        stops.append(await stop(runner, signal.SIGINT))

    log = (tmp_path / "run.log").read_text()
    lost = sum(job["status"] != "completed" for job in finished)
    report("Ctrl-C on `make run`", stops, lost)
    assert [s.left for s in stops] == [[]] * (ROUNDS + 1)
    assert [s.code for s in stops] == [0] * (ROUNDS + 1), log[-3000:]
    assert max(s.seconds for s in stops) < EXIT_WITHIN_S, [s.seconds for s in stops]
    assert log.count("jobcast: stopped") == ROUNDS + 1
    assert " s; killed" not in log  # run.py had to kill nothing
    assert [(job.status, job.attempts, (job.error or {}).get("code")) for job in handed_back] == [
        ("retrying", 1, "worker_shutdown")
    ] * ROUNDS
    assert [(job["status"], job["attempts"]) for job in finished] == [("completed", 2)] * ROUNDS


def start_make_run(env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "scripts/run.py"], cwd=ROOT, env=env,
        stdout=(logs / "run.log").open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,  # run.py leads the group a terminal would signal
    )  # fmt: skip


def submit(base_url: str) -> str:
    response = httpx.post(f"{base_url}/jobs", json={"type": "chat", "params": CHAT}, timeout=10)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


async def ctrl_c_while_streaming(
    base_url: str, runner: subprocess.Popen[bytes], job_id: str
) -> Stopped:
    """Ctrl-C, with a browser following the job as its output streams."""
    events_url = f"{base_url.replace('http://', 'ws://')}/jobs/{job_id}/events?after=0"
    async with connect(events_url) as ws:
        received = Received()
        await read_until(ws, received, is_output)
        stopped = await stop(runner, signal.SIGINT)
        await read_all(ws, received)  # the web server closed it as it stopped
    return stopped


async def followed_to_the_end(base_url: str, job_id: str) -> dict[str, Any]:
    events_url = f"{base_url.replace('http://', 'ws://')}/jobs/{job_id}/events"
    async with connect(events_url) as ws:
        received = await read_all(ws)
    assert received.close_code == 1000, received.messages[-3:]
    job: dict[str, Any] = httpx.get(f"{base_url}/jobs/{job_id}", timeout=10).json()
    return job


def row_of(database_url: str, job_id: str) -> Job:
    """The job's row, read while no jobcast process runs."""
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            job = session.get(Job, job_id)
    finally:
        engine.dispose()
    assert job is not None
    return job
