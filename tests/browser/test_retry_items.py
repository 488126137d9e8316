"""A completed job with failed items offers "Retry N failed items" in the job view."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.dashboard import Dashboard
from tests.client import get_job
from tests.e2e.stacks import start_own_stack
from tests.faults import wait_until
from tests.stack import Stack

# The simulated model's failure draw is deterministic per seed: some of 10 batches fail.
FLAKY = {
    "JOBCAST_SIM_TTFT": "0.01",
    "JOBCAST_SIM_TPS": "20000",
    "JOBCAST_SIM_SEED": "5",
    "JOBCAST_SIM_FAIL_RATE": "0.3",
    "JOBCAST_SIM_FAIL_KIND": "bad_request",
}


@pytest.fixture
def flaky_stack(
    redis_url: str, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    root = Path(tmp_path_factory.mktemp("flaky-browser"))
    running = start_own_stack("flakybrowser", redis_url, namespace, root, FLAKY)
    yield running
    running.stop()


def test_a_completed_job_with_failed_items_retries_them_from_the_job_view(
    page: Page, flaky_stack: Stack
) -> None:
    body = {"type": "generate_personas", "params": {"count": 200}}
    submitted = httpx.post(f"{flaky_stack.base_url}/jobs", json=body, timeout=10)
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["id"]

    def finished() -> dict[str, Any] | None:
        job = get_job(flaky_stack, job_id)
        return job if job["status"] in {"completed", "failed"} else None

    job = wait_until(finished, 30, "the persona job never finished")
    failed = len(job["result"]["failed_items"])
    assert job["status"] == "completed" and 0 < failed < 10, job

    dashboard = Dashboard(page, flaky_stack)
    dashboard.open(f"/#/jobs/{job_id}")
    button = dashboard.view.locator("button[data-action=retry-items]")
    expect(button).to_have_text(f"Retry {failed} failed item{'' if failed == 1 else 's'}")
    with page.expect_response(lambda r: "/retry?items=failed" in r.url) as answer:
        button.click()
    assert answer.value.status == 202
    expect(dashboard.view.locator(".attempts")).to_have_text("attempt 2", timeout=10_000)
