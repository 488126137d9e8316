"""Budgets on a running stack: a job that crosses its owner's budget stops mid-stream and
fails `budget_exhausted` with its output so far; the ledger is the sum of the calls.

The simulated model is priced here ($0.10 a prompt token, $1 a completion token) and
slow (20 tokens a second), so the crossing happens mid-stream at a known pace.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.e2e.stacks import start_own_stack
from tests.stack import Stack

TPS = 20
TOKENS_PER_CALL = 20  # JOBCAST_SIM_TOKENS: one call of long_chat streams one second
BUDGET = 30  # dollars a day for `capped`: 30 completion tokens at most, fewer with prompts
PRICES = "simulated-1=100000/1000000"  # per million: $0.10 a prompt token, $1 a completion


@dataclass
class Budgeted:
    stack: Stack
    keys: dict[str, str]

    def headers(self, owner: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[owner]}"}

    def get(self, owner: str, path: str) -> httpx.Response:
        return httpx.get(f"{self.stack.base_url}{path}", headers=self.headers(owner), timeout=10)

    def submit(self, owner: str, rounds: int) -> httpx.Response:
        body = {"type": "long_chat", "params": {"prompt": "Tell a long story", "rounds": rounds}}
        url = f"{self.stack.base_url}/jobs"
        return httpx.post(url, json=body, headers=self.headers(owner), timeout=10)


@pytest.fixture(scope="module")
def budgeted(
    redis_url: str, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Budgeted]:
    owners = ("capped", "shared", "free")
    keys = {owner: f"{owner}-{secrets.token_urlsafe(24)}" for owner in owners}
    env = {
        "JOBCAST_JOB_MODULES": "tests.jobtypes",
        "JOBCAST_SIM_TPS": str(TPS),
        "JOBCAST_SIM_TOKENS": str(TOKENS_PER_CALL),
        "JOBCAST_PRICES": PRICES,
        "JOBCAST_BUDGETS": f"capped={BUDGET}/day,shared={BUDGET}/day",
        "JOBCAST_API_KEYS": ",".join(f"{owner}:{key}" for owner, key in keys.items()),
    }
    root = Path(tmp_path_factory.mktemp("budgets"))
    stack = start_own_stack("budgets", redis_url, namespace, root, env)
    yield Budgeted(stack, keys)
    stack.stop()


@dataclass
class Followed:
    events: list[dict[str, Any]]
    first_output_at: float
    ended_at: float

    def text(self) -> str:
        return "".join(e["delta"] for e in self.events if e["type"] == "output")


async def follow(b: Budgeted, owner: str, job_id: str) -> Followed:
    """Every event of the job from seq 1, and when the first output and the end arrived."""
    url = b.stack.events_url(job_id, after=0)
    events: list[dict[str, Any]] = []
    first_output_at = 0.0
    async with websockets.connect(url, additional_headers=b.headers(owner)) as ws:
        async for raw in ws:
            event = json.loads(raw)
            events.append(event)
            if event["type"] == "output" and not first_output_at:
                first_output_at = time.monotonic()
    return Followed(events, first_output_at, time.monotonic())


async def test_a_job_crossing_its_budget_stops_within_2_s_and_keeps_its_output(
    budgeted: Budgeted,
) -> None:
    response = budgeted.submit("capped", rounds=10)  # 200 tokens: $200 if it ran to the end
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]

    followed = await follow(budgeted, "capped", job_id)

    last = followed.events[-1]
    assert (last["type"], last["status"]) == ("status", "failed")
    assert last["error"]["code"] == "budget_exhausted"
    # The budget is reached by the 30th completion token at the latest: 1.5 s of
    # streaming plus a first-token wait per call. The job ends within 2 s of that.
    latest_crossing = BUDGET / TPS + 2 * 0.05
    assert followed.ended_at - followed.first_output_at < latest_crossing + 2
    job = budgeted.get("capped", f"/jobs/{job_id}").json()
    assert job["status"] == "failed" and job["error"]["code"] == "budget_exhausted"
    assert job["output"] and followed.text().endswith(job["output"])  # the partial output
    usage = job["usage"]
    # It stopped mid-way: past the budget by at most 2 s of tokens, far from 200 tokens.
    assert BUDGET <= usage["cost"] < BUDGET + 2 * TPS
    assert usage["completion_tokens"] < 10 * TOKENS_PER_CALL
    # The owner's spend is in the ledger, and its next job is refused at submit.
    spend = budgeted.get("capped", "/usage").json()
    assert spend["cost"] == pytest.approx(usage["cost"])
    assert spend["budget"]["remaining"] == 0
    refused = budgeted.submit("capped", rounds=1)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "budget_exhausted"


async def test_jobs_of_one_owner_share_its_budget(budgeted: Budgeted) -> None:
    ids = [budgeted.submit("shared", rounds=10).json()["id"] for _ in range(2)]
    for job_id in ids:
        await follow(budgeted, "shared", job_id)
    jobs = [budgeted.get("shared", f"/jobs/{job_id}").json() for job_id in ids]

    assert [job["error"]["code"] for job in jobs] == ["budget_exhausted"] * 2
    costs = [job["usage"]["cost"] for job in jobs]
    # Streaming side by side, each stopped when both together reached the budget: alone,
    # either would have spent all of it.
    assert BUDGET <= sum(costs) < BUDGET + 2 * TPS
    assert max(costs) < BUDGET * 0.8, costs
    assert budgeted.get("shared", "/usage").json()["cost"] == pytest.approx(sum(costs))


async def test_the_ledger_is_the_sum_of_the_calls_and_cost_is_shown_live(
    budgeted: Budgeted,
) -> None:
    ids = [budgeted.submit("free", rounds=rounds).json()["id"] for rounds in (2, 3)]
    followed = [await follow(budgeted, "free", job_id) for job_id in ids]
    jobs = [budgeted.get("free", f"/jobs/{job_id}").json() for job_id in ids]

    assert [job["status"] for job in jobs] == ["completed", "completed"]
    for job, seen in zip(jobs, followed, strict=True):
        usage = job["usage"]
        # Each call's cost from its tokens, at the price table.
        assert usage["cost"] == pytest.approx(
            usage["prompt_tokens"] * 0.1 + usage["completion_tokens"] * 1.0
        )
        assert usage["stages"]["story"]["cost"] == pytest.approx(usage["cost"])
        # While it ran, the progress event of each round carried the cost of those before.
        progress = [e for e in seen.events if e["type"] == "progress"]
        live = [e["usage"]["cost"] for e in progress if "usage" in e]
        assert len(live) == usage["llm_calls"] - 1 and live == sorted(live)
        assert 0 < live[-1] < usage["cost"]
    spend = budgeted.get("free", "/usage?period=day").json()
    assert spend["budget"] is None
    assert spend["llm_calls"] == sum(job["usage"]["llm_calls"] for job in jobs) == 5
    assert spend["cost"] == pytest.approx(sum(job["usage"]["cost"] for job in jobs))
    assert spend["completion_tokens"] == sum(job["usage"]["completion_tokens"] for job in jobs)
    [group] = spend["by_type_and_model"]
    assert (group["type"], group["model"], group["cost"]) == (
        "long_chat", "simulated-1", spend["cost"],
    )  # fmt: skip
