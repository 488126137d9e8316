"""The Python client against a running stack: REST calls, and events that survive a restart."""

from __future__ import annotations

import threading

import pytest
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from client.api import Client
from client.errors import ApiError, StreamError
from client.live import LiveJob
from tests.stack import Stack


def test_submit_get_and_list(stack: Stack) -> None:
    client = Client(stack.base_url)
    job = client.submit("chat", {"prompt": "Describe a quay"}, priority=2)
    assert (job["status"], job["priority"]) == ("pending", 2)
    assert client.get(job["id"])["id"] == job["id"]
    assert client.list(type="chat", limit=5)[0]["id"] == job["id"]
    assert "chat" in {t["type"] for t in client.job_types()}


def test_errors_carry_the_contracts_code_and_fields(stack: Stack) -> None:
    client = Client(stack.base_url)
    with pytest.raises(ApiError) as raised:
        client.submit("chat", {"prompt": ""})
    assert (raised.value.status, raised.value.code) == (422, "invalid_params")
    assert raised.value.details[0]["field"] == "params.prompt"
    with pytest.raises(StreamError, match="no such job"):
        list(client.events("no-such-job"))


def test_events_resume_in_order_across_a_web_server_restart(slow_stack: Stack) -> None:
    client = Client(slow_stack.base_url)
    job = client.submit("chat", {"prompt": "Describe the lighthouse stairs"})
    messages = []
    restart: threading.Thread | None = None
    for message in client.events(job["id"]):
        messages.append(message)
        if restart is None and message["type"] == "output":
            restart = threading.Thread(target=slow_stack.restart_web)
            restart.start()
    assert restart is not None
    restart.join()

    # One snapshot, then every event exactly once and in order, across two connections.
    assert [m["type"] for m in messages].count("snapshot") == 1
    seqs = [m["seq"] for m in messages[1:]]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    live = LiveJob()
    for message in messages:
        live.apply(message)
    final = client.get(job["id"])
    assert live.job["status"] == final["status"] == "completed"
    assert live.output == final["output"]
    assert live.job["result"] == final["result"]


def test_a_key_travels_as_a_subprotocol_the_server_answers(stack: Stack) -> None:
    """Browsers drop a handshake that ignores the subprotocols they offered."""
    job = Client(stack.base_url).submit("chat", {"prompt": "Describe a slipway"})
    offered = [Subprotocol("jobcast"), Subprotocol("jobcast.bearer.key-1")]
    url = stack.events_url(job["id"])
    with connect(url, subprotocols=offered, open_timeout=10) as ws:
        assert ws.subprotocol == "jobcast"
        assert "snapshot" in str(ws.recv(timeout=10))
