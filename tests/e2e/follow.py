"""Running a job of any type end to end and reading every event it produced."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.client import connect, get_job, read_all, submit
from tests.stack import Stack


@dataclass
class Finished:
    job: dict[str, Any]  # GET /jobs/{id} once the WebSocket closed
    events: list[dict[str, Any]]  # every event from seq 1, as a client received them

    @property
    def progress(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == "progress"]

    @property
    def statuses(self) -> list[str]:
        return [e["status"] for e in self.events if e["type"] == "status"]

    def output(self, stage: str) -> str:
        return "".join(
            e["delta"] for e in self.events if e["type"] == "output" and e["stage"] == stage
        )


async def run_job(stack: Stack, job_type: str, params: dict[str, Any], **extra: Any) -> Finished:
    """Submit a job and follow it from its first event (`?after=0`) until the server closes."""
    job_id = submit(stack, type=job_type, params=params, **extra)
    async with connect(stack.events_url(job_id, after=0)) as ws:
        received = await read_all(ws)
    assert received.close_code == 1000
    assert received.seqs == list(range(1, len(received.seqs) + 1)), received.seqs
    return Finished(get_job(stack, job_id), received.events)
