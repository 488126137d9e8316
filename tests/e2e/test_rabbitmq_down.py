"""RabbitMQ cut off: a submit is still accepted at once, nothing accepted is lost, and
`/health` names RabbitMQ as down until it is back."""

from __future__ import annotations

import time
from typing import Any

from tests.client import Received, connect, read_all, read_until
from tests.faults import FaultStack, job_of, wait_status, wait_until
from tests.tcp_proxy import TcpProxy


async def test_with_rabbitmq_cut_off_a_submit_is_accepted_and_runs_once_it_is_back(
    rabbit_resilient_stack: FaultStack, rabbit_proxy: TcpProxy
) -> None:
    stack = rabbit_resilient_stack
    with stack.api() as api:
        running = api.post("/jobs", json={"type": "long_chat", "params": {"rounds": 2}}).json()
    try:
        async with connect(stack.events_url(running["id"])) as ws:
            received = Received()
            await read_until(ws, received, lambda m: m["type"] == "output")
            rabbit_proxy.cut()  # the worker's consumers and the web's connections drop
            with stack.api() as api:
                started = time.monotonic()
                response = api.post("/jobs", json={"type": "long_chat", "params": {"rounds": 1}})
                submit_took = time.monotonic() - started
                health = api.get("/health")
            # The running job goes on: its events travel through Redis.
            await read_all(ws, received)
        accepted = response.json()
        assert (response.status_code, accepted["status"]) == (202, "pending")
        assert submit_took < 5, submit_took
        assert job_of(stack, accepted["id"])["status"] == "pending"
        assert health.status_code == 503, health.text
        assert health.json()["rabbitmq"].startswith("down: ")
        assert (health.json()["redis"], health.json()["status"]) == ("ok", "unavailable")
    finally:
        rabbit_proxy.restore()
    assert _health_once_ok(stack)["rabbitmq"] == "ok"
    # It has no message: the reconciler sends one once the consumers are back.
    done = wait_status(stack, accepted["id"], {"completed", "failed"}, timeout=30)
    assert received.events[-1]["status"] == "completed"
    assert (job_of(stack, running["id"])["attempts"], done["status"]) == (1, "completed")
    assert done["attempts"] == 1


def _health_once_ok(stack: FaultStack) -> dict[str, Any]:
    def ok() -> dict[str, Any] | None:
        with stack.api() as api:
            response = api.get("/health")
        return response.json() if response.status_code == 200 else None

    found: dict[str, Any] = wait_until(ok, 30, "/health never 200 after RabbitMQ came back")
    return found
