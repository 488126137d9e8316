"""The whole path against real processes: REST submit → dramatiq worker → WebSocket push."""

from __future__ import annotations

import httpx

from tests.client import Received, connect, get_job, read_all, read_until, submit
from tests.stack import Stack


def assert_gapless(received: Received) -> None:
    seqs = received.seqs
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs


async def test_a_chat_job_streams_to_completion(stack: Stack) -> None:
    with stack.worker_paused():  # so the client is there before the job starts
        job_id = submit(stack)
        queued = get_job(stack, job_id)
        ws = await connect(stack.events_url(job_id))
        received = Received()
        snapshot = await read_until(ws, received, lambda m: True)
    await read_all(ws, received)

    assert snapshot["type"] == "snapshot"
    assert (snapshot["seq"], snapshot["job"]["status"]) == (0, "pending")
    assert snapshot["job"]["message"] == queued["message"] == "Queued"
    events = received.events
    assert (events[0]["type"], events[0]["status"]) == ("status", "running")
    assert {"output", "progress"} <= {e["type"] for e in events}
    assert (events[-1]["type"], events[-1]["status"]) == ("status", "completed")
    assert_gapless(received)
    assert received.seqs[1] == 1
    assert received.close_code == 1000

    job = get_job(stack, job_id)
    assert (job["status"], job["progress"], job["seq"]) == ("completed", 100, received.seqs[-1])
    assert job["result"]["text"] == received.text() == job["output"]
    assert job["result"]["text"].startswith("(simulated reply to “Tell me about lighthouses”)")
    assert job["usage"]["provider"] == "simulated"
    assert events[-1]["result"] == job["result"]
    # The message says what is happening, the same in events, REST and a later snapshot.
    assert events[0]["message"] == "Started"
    assert events[-1]["message"] == job["message"] == "Completed"
    async with connect(stack.events_url(job_id)) as again:
        assert (await read_all(again)).messages[0]["job"]["message"] == "Completed"


async def test_a_client_joining_mid_stream_sees_the_exact_text(stack: Stack) -> None:
    job_id = submit(stack, "Describe the harbour at dusk")
    async with connect(stack.events_url(job_id)) as first:
        seen = Received()
        await read_until(first, seen, lambda m: m["type"] == "output")
        # Freeze the job between tokens, so the second client surely joins mid-stream.
        with stack.worker_paused():
            async with connect(stack.events_url(job_id)) as late:
                joined = Received()
                snapshot = await read_until(late, joined, lambda m: True)
                assert snapshot["job"]["status"] == "running"
                assert snapshot["job"]["output"]
        await read_all(first, seen)

    final = get_job(stack, job_id)["result"]["text"]
    assert seen.text() == final
    assert snapshot["job"]["output"] == seen.text()[: len(snapshot["job"]["output"])]


async def test_a_client_joining_mid_stream_then_following_gets_every_later_delta(
    stack: Stack,
) -> None:
    job_id = submit(stack, "Write about the tides")
    async with connect(stack.events_url(job_id)) as first:
        await read_until(first, Received(), lambda m: m["type"] == "output")
        async with connect(stack.events_url(job_id)) as late:
            joined = await read_all(late)
    assert joined.messages[0]["type"] == "snapshot"
    assert_gapless(joined)
    assert joined.text() == get_job(stack, job_id)["result"]["text"]
    assert joined.close_code == 1000


async def test_resume_after_a_disconnect_receives_exactly_the_missed_events(
    stack: Stack,
) -> None:
    job_id = submit(stack, "Resume me")
    async with connect(stack.events_url(job_id)) as reference_ws:
        reference = Received()
        async with connect(stack.events_url(job_id)) as dropped:
            part = Received()
            cut = await read_until(dropped, part, lambda m: m["type"] == "output")
        # Disconnected at seq N; the job goes on. Come back asking for what follows N.
        async with connect(stack.events_url(job_id, after=cut["seq"])) as resumed:
            rest = await read_all(resumed)
        await read_all(reference_ws, reference)

    expected = [raw for raw, m in zip(reference.raw, reference.messages, strict=True)
                if m["type"] != "snapshot" and m["seq"] > cut["seq"]]  # fmt: skip
    assert rest.raw == expected
    assert rest.close_code == 1000
    assert (
        part.text() + "".join(m["delta"] for m in rest.events if m["type"] == "output")
        == (get_job(stack, job_id)["result"]["text"])
    )


async def test_a_finished_job_sends_its_snapshot_and_closes(stack: Stack) -> None:
    job_id = submit(stack, "Short one")
    async with connect(stack.events_url(job_id)) as ws:
        await read_all(ws)
    async with connect(stack.events_url(job_id)) as ws:
        again = await read_all(ws)
    assert [m["type"] for m in again.messages] == ["snapshot"]
    assert again.messages[0]["job"]["status"] == "completed"
    assert again.close_code == 1000
    # Resuming at the last event: nothing is missing, so nothing is sent.
    async with connect(stack.events_url(job_id, after=again.seqs[0])) as ws:
        resumed = await read_all(ws)
    assert (resumed.messages, resumed.close_code) == ([], 1000)


async def test_an_unknown_job_closes_with_4404_before_any_message(stack: Stack) -> None:
    async with connect(stack.events_url("0" * 32)) as ws:
        received = await read_all(ws)
    assert (received.messages, received.close_code) == ([], 4404)


async def test_a_bad_after_closes_with_4400(stack: Stack) -> None:
    job_id = submit(stack)
    async with connect(f"{stack.events_url(job_id)}?after=minus-one") as ws:
        received = await read_all(ws)
    assert (received.messages, received.close_code) == ([], 4400)


def test_health_reports_database_redis_and_the_worker(stack: Stack) -> None:
    response = httpx.get(f"{stack.base_url}/health", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert (body["database"], body["redis"], body["status"]) == ("ok", "ok", "ok")
    assert body["workers"] >= 1
