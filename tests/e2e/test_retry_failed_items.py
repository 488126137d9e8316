"""Work never paid for twice: a completed persona job whose batches partly failed is
retried through the API, and only the failed batches reach the model server again.

Workers use the `openai` provider against the loopback model server, which answers each
batch's request (found by the persona numbers in its prompt) and counts what it saw.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlmodel import Session, col

from actors.jobtypes.personas import batches
from store.models import ResultPersona
from tests.client import connect, get_job, read_all
from tests.e2e.follow import run_job
from tests.e2e.stacks import loopback_model, start_own_stack
from tests.openai_server import Fail, OpenAIServer, Stream
from tests.stack import Stack

COUNT = 500
FAILING = {3, 8, 13, 18, 23}  # 5 of the 25 batches: 20 %


@pytest.fixture(scope="module")
def loop_stack(
    server: OpenAIServer, redis_url: str, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    env = {
        **loopback_model(server),
    }
    root = Path(tmp_path_factory.mktemp("retry-items"))
    running = start_own_stack("retryitems", redis_url, namespace, root, env)
    yield running
    running.stop()


def personas_json(first: int, size: int) -> str:
    people = [
        {
            "name": f"Person {first + n}",
            "gender": "female",
            "bios": {"facebook": "Bakes.", "instagram": "Bread.", "x": "Crumbs.", "tiktok": "Yum."},
        }
        for n in range(size)
    ]
    return json.dumps({"personas": people})


def saved_personas(stack: Stack, job_id: str) -> list[int]:
    """The persona ids the job's save stage wrote (result_persona), in order."""
    engine = create_engine(stack.env["DATABASE_URL"])
    statement = select(col(ResultPersona.persona_id)).where(col(ResultPersona.job_id) == job_id)
    try:
        with Session(engine) as session:
            return sorted(session.execute(statement).scalars())
    finally:
        engine.dispose()


def marker(first: int, last: int) -> str:
    return f"numbers {first}–{last} of {COUNT}"


async def test_a_retry_of_the_failed_batches_calls_the_model_for_those_batches_only(
    server: OpenAIServer, loop_stack: Stack
) -> None:
    for batch in batches(COUNT):
        answer = Stream(personas_json(batch.first, batch.size))
        rejected = Fail(400, "request rejected")
        replies = (rejected, answer) if batch.number in FAILING else (answer,)
        server.plan(marker(batch.first, batch.last), *replies)

    first = await run_job(loop_stack, "generate_personas", {"count": COUNT})
    assert first.statuses == ["running", "completed"]
    result = first.job["result"]
    assert {f["index"] + 1 for f in result["failed_items"]} == FAILING
    assert result["count"] == COUNT - 20 * len(FAILING)
    assert len(server.seen(f"of {COUNT}")) == 25
    assert saved_personas(loop_stack, first.job["id"]) == [p["id"] for p in result["personas"]]

    response = httpx.post(
        f"{loop_stack.base_url}/jobs/{first.job['id']}/retry", params={"items": "failed"}
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] in {"pending", "running"}  # the worker may be quick
    async with connect(loop_stack.events_url(first.job["id"], after=first.job["seq"])) as ws:
        rest = await read_all(ws)

    # Events continue on the same sequence, with no gap.
    start = first.job["seq"] + 1
    assert rest.seqs == list(range(start, start + len(rest.seqs)))
    statuses = [(e["status"], e["attempt"]) for e in rest.events if e["type"] == "status"]
    assert statuses == [("pending", 1), ("running", 2), ("completed", 2)]
    job = get_job(loop_stack, first.job["id"])
    assert (job["attempts"], job["result"]["failed_items"]) == (2, [])
    assert job["result"]["count"] == len(job["result"]["personas"]) == COUNT
    assert [p["id"] for p in job["result"]["personas"]] == list(range(1, COUNT + 1))
    # The retry saved the new personas beside the first attempt's, none of them twice.
    assert saved_personas(loop_stack, job["id"]) == list(range(1, COUNT + 1))
    # The model server saw each failed batch twice and every other batch once.
    for batch in batches(COUNT):
        expected = 2 if batch.number in FAILING else 1
        assert len(server.seen(marker(batch.first, batch.last))) == expected, batch
    assert len(server.seen(f"of {COUNT}")) == 25 + len(FAILING)
    assert job["usage"]["llm_calls"] == 25 + len(FAILING)
    assert job["usage"]["reused_calls"] == 25 - len(FAILING)
    messages = [e["message"] for e in rest.events if e["type"] == "progress"]
    assert "Reusing 20 of 25 finished items from earlier attempts" in " ".join(messages)


async def test_a_completed_job_without_failed_items_is_not_retried(
    server: OpenAIServer, loop_stack: Stack
) -> None:
    server.plan(marker(1, 20).replace(f"of {COUNT}", "of 20"), Stream(personas_json(1, 20)))
    done = await run_job(loop_stack, "generate_personas", {"count": 20})
    assert (done.job["status"], done.job["result"]["failed_items"]) == ("completed", [])
    response = httpx.post(f"{loop_stack.base_url}/jobs/{done.job['id']}/retry")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
