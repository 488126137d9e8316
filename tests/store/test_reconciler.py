"""The reconciler against a real database and Redis: lost messages and lost workers come back."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col

from store import attempts, enqueued, jobs
from store.backends import Backends
from store.chores import reconciler
from store.models import Job, WorkerProcess, utcnow
from store.retries import Backoff, Failure

LATER = timedelta(seconds=60)


def new_job(b: Backends, max_attempts: int = 3) -> str:
    return jobs.create(b, type="chat", params={"prompt": "x"}, max_attempts=max_attempts).id


def run_pass(b: Backends, sent: list[str], ahead: timedelta = LATER) -> reconciler.Pass:
    return reconciler.reconcile(
        b,
        lease_s=10,
        grace_s=5,
        backoff=Backoff(base=0.1, cap=0.1),
        send=lambda job: sent.append(job.id),
        now=utcnow() + ahead,
    )


def test_a_pending_job_without_a_message_is_sent_again(isolated_backends: Backends) -> None:
    b = isolated_backends
    lost, queued, fresh = new_job(b), new_job(b), new_job(b)
    enqueued.mark(b, queued)
    sent: list[str] = []
    run_pass(b, sent, ahead=LATER)
    assert lost in sent and queued not in sent
    # A job younger than the grace period may have its message on the way: left alone.
    sent.clear()
    run_pass(b, sent, ahead=timedelta(0))
    assert fresh not in sent


def test_a_running_job_whose_lease_went_stale_is_retried(isolated_backends: Backends) -> None:
    b = isolated_backends
    alive, dead = new_job(b), new_job(b)
    for job_id in (alive, dead):
        jobs.claim(b, job_id, worker="host:42")
    with Session(b.engine) as session, session.begin():
        session.execute(
            update(Job).where(col(Job.id) == alive).values(heartbeat_at=utcnow() + LATER)
        )
    sent: list[str] = []
    done = run_pass(b, sent)
    assert dead in done.recovered and alive not in done.recovered
    job = jobs.get(b, dead)
    assert (job.status, job.error and job.error["code"]) == ("retrying", "worker_lost")
    assert job.error is not None and "host:42" in job.error["message"]
    assert dead in sent
    assert jobs.get(b, alive).status == "running"


def test_a_worker_process_that_beats_keeps_the_leases_of_all_its_jobs(
    isolated_backends: Backends,
) -> None:
    b = isolated_backends
    alive, dead = f"host:{uuid.uuid4().hex[:8]}", f"host:{uuid.uuid4().hex[:8]}"
    kept, other, lost = new_job(b), new_job(b), new_job(b)
    for job_id, worker in ((kept, alive), (other, alive), (lost, dead)):
        jobs.claim(b, job_id, worker=worker)
    with Session(b.engine) as session, session.begin():  # the claims' own leases ran out
        ids = [kept, other, lost]
        session.execute(
            update(Job).where(col(Job.id).in_(ids)).values(heartbeat_at=utcnow() - LATER)
        )
    attempts.beat(b, dead)
    with Session(b.engine) as session, session.begin():  # then that worker went silent
        session.execute(
            update(WorkerProcess)
            .where(col(WorkerProcess.name) == dead)
            .values(heartbeat_at=utcnow() - LATER)
        )
    # One statement renews both jobs' leases, and tells the worker what it runs.
    assert attempts.beat(b, alive) == {kept: 1, other: 1}
    done = run_pass(b, [], ahead=timedelta(0))
    assert lost in done.recovered and not {kept, other} & set(done.recovered)
    assert {jobs.get(b, j).status for j in (kept, other)} == {"running"}


def test_a_job_that_keeps_losing_its_worker_gives_up(isolated_backends: Backends) -> None:
    b = isolated_backends
    job_id = new_job(b, max_attempts=1)
    jobs.claim(b, job_id, worker="host:7")
    sent: list[str] = []
    run_pass(b, sent)
    job = jobs.get(b, job_id)
    assert job.status == "failed" and job_id not in sent
    assert job.error == {
        "code": "worker_lost",
        "message": "gave up after 1 attempts; the last one failed: "
        "the worker (host:7) running attempt 1 stopped responding",
    }


def test_a_retrying_job_is_sent_again_once_due(isolated_backends: Backends) -> None:
    b = isolated_backends
    job_id = new_job(b)
    jobs.claim(b, job_id)
    failure = Failure("llm_error", "503", transient=True)
    jobs.end_attempt(b, job_id, 1, failure, Backoff(base=30, cap=30))
    sent: list[str] = []
    run_pass(b, sent, ahead=timedelta(seconds=1))
    assert job_id not in sent  # not due yet
    run_pass(b, sent, ahead=LATER)
    assert job_id in sent
