"""500 personas with injected batch failures: partial success completes and lists exactly
the failed batches; when every batch fails, the job fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.follow import run_job
from tests.e2e.stacks import start_own_stacks
from tests.stack import Stack

# A seed whose 10 % draw fails a few of the 25 batches (the draw is deterministic).
SEED = "5"
FAST = {"JOBCAST_SIM_TTFT": "0.01", "JOBCAST_SIM_TPS": "20000", "JOBCAST_SIM_SEED": SEED}


@pytest.fixture(scope="module")
def flaky(
    redis_url: str, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Stack]]:
    root = Path(tmp_path_factory.mktemp("flaky-stacks"))
    stacks = start_own_stacks(
        redis_url,
        namespace,
        root,
        {
            "ten": {
                **FAST,
                "JOBCAST_SIM_FAIL_RATE": "0.1",
                "JOBCAST_SIM_FAIL_KIND": "server_error",
            },
            "all": {**FAST, "JOBCAST_SIM_FAIL_RATE": "1", "JOBCAST_SIM_FAIL_KIND": "bad_request"},
        },
    )
    yield stacks
    for stack in stacks.values():
        stack.stop()


async def test_500_personas_at_a_10_percent_failure_rate_complete_without_the_failed_batches(
    flaky: dict[str, Stack],
) -> None:
    done = await run_job(flaky["ten"], "generate_personas", {"count": 500})
    assert done.statuses == ["running", "completed"]
    result = done.job["result"]
    failed = result["failed_items"]
    failed_numbers = {f["index"] + 1 for f in failed}
    assert 0 < len(failed) < 25
    assert (result["requested"], result["batches"]) == (500, 25)
    assert result["count"] == len(result["personas"]) == 500 - 20 * len(failed)
    # Every batch is either in the result or listed as failed, never both.
    made = {p["batch"] for p in result["personas"]}
    assert made | failed_numbers == set(range(1, 26))
    assert not made & failed_numbers
    missing = set(range(1, 501)) - {p["id"] for p in result["personas"]}
    assert missing == {n for f in failed for n in range(f["personas"][0], f["personas"][1] + 1)}
    for failure in failed:
        assert failure["label"] == f"batch {failure['index'] + 1}/25"
        assert failure["error"] == {
            "code": "llm_error",
            "message": "simulated model answered 500: server error",
        }
    # What the user watched: one step per batch, the failed ones said so.
    messages = [p["message"] for p in done.progress]
    said_failed = {m.split("/")[0].removeprefix("batch ") for m in messages if " failed: " in m}
    assert {int(n) for n in said_failed} == failed_numbers
    generated = [m for m in messages if m.startswith("Generated batch ")]
    assert len(generated) == 25 - len(failed)


async def test_500_personas_fail_when_every_batch_fails(flaky: dict[str, Stack]) -> None:
    done = await run_job(flaky["all"], "generate_personas", {"count": 500})
    assert done.statuses == ["running", "failed"]
    assert done.job["result"] is None
    assert done.job["error"] == {
        "code": "llm_error",
        "message": "simulated model answered 400: request rejected",
    }
