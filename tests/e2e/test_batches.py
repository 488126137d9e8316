"""A batch's children run on the worker and their parent's view rolls them up."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.client import connect, read_all
from tests.stack import Stack

CHILDREN = 5


async def test_a_batchs_children_run_and_the_parent_rolls_them_up(stack: Stack) -> None:
    tag = f"e2e:{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=20) as api:
        parent = (await api.post("/jobs", json={"type": "chat", "params": {"prompt": "p"}})).json()
        items = [
            {
                "type": "chat",
                "params": {"prompt": f"c{i}"},
                "parent_id": parent["id"],
                "tags": [tag],
            }
            for i in range(CHILDREN)
        ]
        answer = await api.post("/jobs/batch", json={"jobs": items})
        assert answer.status_code == 202, answer.text
        children = [job["id"] for job in answer.json()["jobs"]]
        await asyncio.gather(*(_follow(stack, job_id) for job_id in [parent["id"], *children]))
        view = (await api.get(f"/jobs/{parent['id']}")).json()
        listed = (await api.get("/jobs", params={"parent_id": parent["id"], "tag": tag})).json()
    assert view["status"] == "completed"
    assert view["children"] == {
        "total": CHILDREN,
        "progress": 100,
        "done": CHILDREN,
        "statuses": {"completed": CHILDREN},
    }
    assert sorted(job["id"] for job in listed["jobs"]) == sorted(children)
    assert {job["status"] for job in listed["jobs"]} == {"completed"}


async def _follow(stack: Stack, job_id: str) -> None:
    """Until the server closes the job's WebSocket: it does once the job is terminal."""
    async with connect(stack.events_url(job_id, after=0)) as ws:
        received = await read_all(ws)
    assert received.close_code == 1000
    assert received.events[-1]["status"] == "completed"
