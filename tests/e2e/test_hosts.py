"""Faults across hosts, on a bed of network namespaces (tests/hosts/): PostgreSQL on `db`,
Valkey on `redis`, web processes on `web1` and `web2`, workers on `work1`…`work3`.

The test process plays the client from the root namespace, reaching each web host at
its own address through the bed's bridge, as a browser reaches a load balancer's
backends. One bed serves the whole module; the last test takes it down.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from redis import Redis

from tests.client import Received, connect, read_all, read_until
from tests.faults import wait_until
from tests.hosts import BEDS, Bed, NamespacesUnavailable, empty, net, probe, sweep, teardown, up
from tests.processes import alive

WEBS, WORKERS = ("web1", "web2"), ("work1", "work2", "work3")
# Quick recovery (as tests/faults.py's FAST_RECOVERY), a model call of about a second.
ENV = {
    "JOBCAST_LEASE": "4",
    "JOBCAST_RECONCILE_INTERVAL": "0.5",
    "JOBCAST_RETRY_BASE": "0.2",
    "JOBCAST_RETRY_MAX": "2",
    "JOBCAST_SHUTDOWN_GRACE": "1",
    "JOBCAST_WORKER_HEARTBEAT": "0.5",
    "JOBCAST_SIM_TTFT": "0.05",
    "JOBCAST_SIM_TPS": "40",
    "JOBCAST_SIM_TOKENS": "40",
}

pytestmark = pytest.mark.timeout(120)


def require_namespaces() -> None:
    try:
        probe()
    except NamespacesUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"{error}; CI runs as root and must run the multi-host tests")
        pytest.skip(f"{error} (the multi-host bed needs root)")


@pytest.fixture(scope="module")
def bed() -> Iterator[Bed]:
    require_namespaces()
    made = up((*WEBS, *WORKERS), ENV)
    try:
        for host in WORKERS:
            made.start_worker(host, threads=2)
        for host in WEBS:
            made.start_web(host, wait=False)
        made.wait_workers(*WORKERS)
        for host in WEBS:
            made.wait_web(host)
        yield made
    finally:
        made.down()


def api(bed: Bed, web: str) -> httpx.Client:
    return httpx.Client(base_url=bed.url(web), timeout=15)


def submit(bed: Bed, web: str, rounds: int) -> str:
    with api(bed, web) as client:
        response = client.post("/jobs", json={"type": "long_chat", "params": {"rounds": rounds}})
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


def job(bed: Bed, web: str, job_id: str) -> dict[str, Any]:
    with api(bed, web) as client:
        response = client.get(f"/jobs/{job_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def wait_job(bed: Bed, job_id: str, done: Any, timeout: float = 60) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        found = job(bed, "web2", job_id)
        return found if done(found) else None

    result: dict[str, Any] = wait_until(reached, timeout, f"job {job_id} never got there")
    return result


def running_on(bed: Bed, host: str, rounds: int) -> str:
    """A job submitted while the other workers are frozen, so `host` claims it."""
    others = [w for w in WORKERS if w != host]
    with bed.workers_paused(*others):
        job_id = submit(bed, "web1", rounds)
        wait_job(bed, job_id, lambda j: j["status"] == "running", 30)
    assert bed.host_running(job_id) == host
    return job_id


def netns_of(pid: int) -> int:
    return os.stat(f"/proc/{pid}/ns/net").st_ino


def test_a_bed_whose_maker_died_is_swept_and_one_whose_maker_lives_is_kept() -> None:
    require_namespaces()
    maker = subprocess.Popen(["true"])
    maker.wait()  # a pid that was, and is no more
    beds = {"stale": empty(str(maker.pid)), "live": empty(str(os.getpid()))}
    try:
        for made in beds.values():
            made.network.create()
            made.network.add_host("web1")
        swept = sweep()
        left = {ns.split("-", 1)[0] for ns in net.namespaces()}
    finally:
        for made in beds.values():
            teardown(made.id)
    assert beds["stale"].id in swept and beds["live"].id not in swept
    assert beds["stale"].id not in left and beds["live"].id in left
    assert not (BEDS / beds["stale"].id).exists()


def test_every_role_runs_on_its_own_host_and_jobs_cross_them(bed: Bed) -> None:
    hosts = bed.network.hosts
    assert len({h.address for h in hosts.values()}) == len(hosts) == 7
    for name, role in bed.roles.items():
        namespace = netns_of(role.popen.pid)
        assert namespace == os.stat(f"/run/netns/{hosts[name].namespace}").st_ino, name
        assert namespace != netns_of(os.getpid())
    with api(bed, "web2") as client:
        health = client.get("/health").json()
    assert health == {"database": "ok", "redis": "ok", "workers": 3, "status": "ok"}
    job_id = submit(bed, "web1", rounds=1)
    wait_job(bed, job_id, lambda j: j["status"] == "completed")
    assert bed.host_running(job_id) in WORKERS


async def test_a_client_of_web1_follows_a_job_on_work3_and_resumes_on_web2_when_web1_dies(
    bed: Bed,
) -> None:
    job_id = running_on(bed, "work3", rounds=4)
    received = Received()
    async with connect(bed.events_url("web1", job_id, after=0)) as ws:
        await read_until(ws, received, lambda m: m["type"] == "output")
        bed.kill("web1")  # the host's web process dies: no close frame
        await read_all(ws, received)
    assert received.close_code != 1000
    async with connect(bed.events_url("web2", job_id, after=received.seqs[-1])) as ws:
        resumed = await read_all(ws)
    bed.start_web("web1")  # for the tests after this one

    assert resumed.close_code == 1000
    seqs = received.seqs + [m["seq"] for m in resumed.events]
    assert seqs == list(range(1, len(seqs) + 1))  # gapless, no duplicate, across two hosts
    statuses = [m["status"] for m in received.events + resumed.events if m["type"] == "status"]
    assert statuses == ["running", "completed"]
    text = "".join(m["delta"] for m in received.events + resumed.events if m["type"] == "output")
    assert text == job(bed, "web2", job_id)["result"]["text"]


def test_a_worker_cut_off_mid_job_loses_it_to_another_and_writes_no_second_result(
    bed: Bed,
) -> None:
    job_id = running_on(bed, "work2", rounds=12)
    work2 = bed.worker_pids("work2")
    bed.cut("work2")
    cut_at = time.monotonic()
    try:
        # Another worker takes the job over once work2's lease has run out …
        wait_job(bed, job_id, lambda j: j["attempts"] == 2 and j["status"] == "running")
        taken_after = time.monotonic() - cut_at
    finally:
        # … and work2 comes back while its own attempt is still under way.
        bed.restore("work2")
    restored_at = time.time()
    done = wait_job(bed, job_id, lambda j: j["status"] in {"completed", "failed"})
    wait_until(lambda: reported_since(bed, work2, restored_at), 60, "work2 never came back")
    wait_until(lambda: attempt_ended(bed, job_id), 60, "work2 never let its attempt go")
    after = job(bed, "web1", job_id)

    # Within the lease (4 s), a reconciler pass and the claim, with room for a busy machine.
    assert taken_after < 4 + 10, taken_after
    assert bed.host_running(job_id) in {"work1", "work3"}
    assert (done["status"], done["attempts"]) == ("completed", 2)
    for field in ("status", "attempts", "result", "seq", "finished_at"):
        assert after[field] == done[field], field
    statuses = [e for e in events(bed, job_id) if e["type"] == "status"]
    assert [(e["status"], e["attempt"]) for e in statuses] == [
        ("running", 1), ("retrying", 1), ("running", 2), ("completed", 2)
    ]  # fmt: skip
    assert statuses[1]["error"]["code"] == "worker_lost"


def reported_since(bed: Bed, pids: list[int], since: float) -> bool:
    """Whether every one of `pids` wrote its Redis heartbeat after `since`."""
    with Redis.from_url(bed.redis_url, socket_timeout=5) as client:
        beats = {
            int(name.decode().rsplit(":", 1)[1]): score
            for name, score in client.zrange(bed.keys.workers, 0, -1, withscores=True)
        }
    return all(beats.get(pid, 0) > since for pid in pids)


def attempt_ended(bed: Bed, job_id: str) -> bool:
    """work2's log says its attempt of the job is over (stopped by its lease beat, or
    refused when it tried to record its end)."""
    log = bed.roles["work2"].log.read_text(errors="replace")
    said = (f"job {job_id}: attempt 1 is over", f"job {job_id} attempt 1: events refused")
    return any(words in log for words in said)


def events(bed: Bed, job_id: str) -> list[dict[str, Any]]:
    """Every retained event of the job, from web1, replayed from the start."""

    async def replay() -> list[dict[str, Any]]:
        async with connect(bed.events_url("web1", job_id, after=0)) as ws:
            return (await read_all(ws)).events

    return asyncio.run(replay())


def test_redis_frozen_10_s_with_the_database_500_ms_away_loses_nothing_and_never_500s(
    bed: Bed,
) -> None:
    ids = [submit(bed, web, rounds=3) for web in (*WEBS, *WEBS)]
    wait_job(bed, ids[0], lambda j: j["status"] == "running")
    answers: list[tuple[str, int, Any]] = []
    stop = threading.Event()
    # Health apart from the jobs: a request may wait out Redis's 5 s timeout.
    paths = [["/health"], [f"/jobs/{job_id}" for job_id in ids]]
    pollers = [
        threading.Thread(target=poll, args=(bed, web, routes, answers, stop))
        for web in WEBS
        for routes in paths
    ]
    for poller in pollers:
        poller.start()
    try:
        with bed.database_delayed(0.5):
            with api(bed, "web1") as client:
                slow = client.get("/health")  # SELECT 1: one round trip to the database
            with bed.redis_frozen():
                stop.wait(10)  # the fault's length is the point: it lasts 10 s
    finally:
        stop.set()
        for poller in pollers:
            poller.join()
    finished = [
        wait_job(bed, job_id, lambda j: j["status"] in {"completed", "failed"}, 90)
        for job_id in ids
    ]
    recovered = wait_until(lambda: healthy(bed), 60, "health never recovered")

    assert slow.status_code == 200 and slow.elapsed.total_seconds() >= 0.5  # the delay is on
    assert [j["status"] for j in finished] == ["completed"] * len(ids)
    codes = {code for _, code, _ in answers}
    assert codes <= {200, 503}, answers
    degraded = [body for route, code, body in answers if route == "/health" and code == 503]
    assert degraded, "health never said Redis was down"
    assert all(body["redis"].startswith("down") for body in degraded)
    assert all(body["status"] == "unavailable" for body in degraded)
    assert recovered


def poll(bed: Bed, web: str, paths: list[str], answers: list[Any], stop: threading.Event) -> None:
    """GET `paths` over and over while the fault lasts (as a dashboard would)."""
    with api(bed, web) as client:
        while not stop.is_set():
            for path in paths:
                try:
                    response = client.get(path)
                except httpx.HTTPError as error:  # no answer at all: as bad as a 500
                    answers.append((path, 0, repr(error)))
                    continue
                answers.append((path, response.status_code, response.json()))


def healthy(bed: Bed) -> bool:
    for web in WEBS:
        with api(bed, web) as client:
            answer = client.get("/health")
        if answer.status_code != 200 or answer.json()["workers"] != 3:
            return False
    return True


def test_down_removes_every_namespace_link_process_and_file(bed: Bed) -> None:
    # Last in the module: it takes the module's bed down (the fixture's down is a no-op).
    pids = [role.popen.pid for role in bed.roles.values()]
    pids += [server.pid for server in bed.servers.values()]
    bed.down()
    assert not [ns for ns in net.namespaces() if ns.startswith(bed.id)]
    assert bed.id not in net.ip("-br", "link")
    assert not (BEDS / bed.id).exists()
    assert not [pid for pid in pids if alive(pid)]
