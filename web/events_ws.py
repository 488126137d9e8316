"""`GET /jobs/{id}/events`: the job's events over a WebSocket, in order, exactly once.

Subscribe first, then read the snapshot (seq S) or the replay after `?after=N`; live
events at or below what was sent are dropped, a gap is filled from the replay log (or
answered with a fresh snapshot), and the terminal `status` event ends the connection
with 1000.

Before any of that a connection passes the gate: an allowed Origin (else HTTP 403), a
valid key (else 4401, web/ws_access.py), and a free slot under its owner's connection
cap (else 4429, web/connections.py). What the client sends is policed by
web/ws_inbound.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from store import jobs
from store.backends import Backends
from store.errors import JobNotFound
from store.status import TERMINAL
from store.times import now_iso
from store.view import job_json
from web.auth import set_owner
from web.connections import CLOSE_TOO_MANY
from web.metrics import delivered
from web.relay import CLOSE_RELAY_LOST, Hub, Subscription
from web.ws_access import Gate, Refused, accept, deny_origin, origin_allowed
from web.ws_inbound import Inbound

log = logging.getLogger(__name__)

CLOSE_NOT_FOUND = 4404
CLOSE_BAD_REQUEST = 4400
CLOSE_INTERNAL = 1011
CLOSE_WAIT_S = 30.0


class Stream:
    """What one connection has sent so far, and the means to send more."""

    __slots__ = ("b", "done", "first", "job_id", "last", "ws")

    def __init__(self, ws: WebSocket, b: Backends, job_id: str) -> None:
        self.ws = ws
        self.b = b
        self.job_id = job_id
        self.last = 0
        self.done = False
        self.first: dict[str, Any] | None = None  # the view read at the start, until sent

    async def read_first(self, owner: str) -> None:
        """Read the job's view as `owner` (JobNotFound when it is not theirs)."""
        # One trip to a worker thread and the database both checks the owner and is the
        # snapshot.
        self.first = await run_in_threadpool(self._job_view, owner)

    async def run(self, sub: Subscription, after: int | None) -> None:
        """The snapshot read first (or what follows `after`), then every later event."""
        view, self.first = self.first, None  # not kept for the connection's life
        if after is None:
            await self.send_snapshot(view)
        else:
            await self.catch_up(after)
        await self.follow(sub)

    async def send_snapshot(self, job: dict[str, Any] | None = None) -> None:
        """Send the job's view: `job` if it was just read, else a fresh read."""
        if job is None:
            job = await run_in_threadpool(self._job_view)
        message = {
            "job_id": self.job_id,
            "seq": job["seq"],
            "type": "snapshot",
            "ts": now_iso(),
            "job": job,
        }
        await self.ws.send_text(json.dumps(message))
        self.last = job["seq"]
        self.done = job["status"] in TERMINAL

    def _job_view(self, owner: str | None = None) -> dict[str, Any]:
        job = jobs.get(self.b, self.job_id, owner)
        return job_json(job, self.b.events.snapshot(self.job_id))

    async def catch_up(self, after: int) -> None:
        """Send what follows `after`: from the replay log if it still holds it, else a snapshot."""
        events = await run_in_threadpool(self.b.events.replay, self.job_id, after)
        if events is None:
            await self.send_snapshot()
            return
        self.last = max(self.last, after)
        for event in events:
            await self.ws.send_text(event.raw)
            self.last, self.done = event.seq, event.terminal
        if not events:
            # Nothing after `after`: done if the client already holds the terminal event.
            status = (await run_in_threadpool(self._job_view))["status"]
            self.done = status in TERMINAL

    async def follow(self, sub: Subscription) -> None:
        while not self.done:
            event = await sub.get()
            if event.seq <= self.last:
                continue
            if event.seq > self.last + 1:
                await self.catch_up(self.last)
                continue
            await self.ws.send_text(event.raw)
            delivered(self.job_id, event)
            self.last, self.done = event.seq, event.terminal


def _after(ws: WebSocket) -> int | None:
    raw = ws.query_params.get("after")
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise ValueError("after must be a non-negative integer")
    return int(raw)


async def job_events(ws: WebSocket) -> None:
    gate: Gate = ws.app.state.ws_gate
    if not origin_allowed(ws, gate.origins):
        await deny_origin(ws)
        return
    reason = ""
    try:
        code = await _admitted(ws, gate)
    except Refused as refused:
        code, reason = refused.code, refused.reason
    except (RedisError, SQLAlchemyError) as error:
        log.warning("job events: a dependency is unavailable: %s", type(error).__name__)
        code = CLOSE_RELAY_LOST if isinstance(error, RedisError) else CLOSE_INTERNAL
    if code is not None:
        # A client that stopped reading never takes the close frame: give up on it after
        # a while rather than keep this task forever.
        with contextlib.suppress(RuntimeError, WebSocketDisconnect, TimeoutError):
            await asyncio.wait_for(ws.close(code, reason), CLOSE_WAIT_S)


async def _admitted(ws: WebSocket, gate: Gate) -> int | None:
    """Serve a connection that passes the gate (else Refused); returns the close code."""
    owner = await accept(ws, gate.keyring)
    set_owner(ws, owner)
    lease = await gate.cap.acquire(owner)
    if lease is None:
        raise Refused(CLOSE_TOO_MANY, "too many connections for this key")
    try:
        return await _job_stream(ws, owner, Inbound(ws))
    finally:
        # Before the close frame: a client that saw it may connect again at once.
        await gate.cap.release(lease)


async def _job_stream(ws: WebSocket, owner: str, inbound: Inbound) -> int | None:
    job_id = ws.path_params["job_id"]
    hub: Hub = ws.app.state.hub
    try:
        after = _after(ws)
    except ValueError:
        return CLOSE_BAD_REQUEST
    stream = Stream(ws, ws.app.state.backends, job_id)
    # Subscribed before the snapshot is read: no event falls between the two.
    sub = hub.subscribe(job_id)
    try:
        try:
            await stream.read_first(owner)
        except JobNotFound:
            return CLOSE_NOT_FOUND
        return await _serve(stream, sub, after, inbound)
    finally:
        hub.unsubscribe(sub)


class Stop:
    """Ends the task that reads the client from outside: the events are all sent (or
    sending failed), or the relay ended the subscription."""

    __slots__ = ("armed", "code", "requested", "sub", "task")

    def __init__(self, task: asyncio.Task[Any], sub: Subscription) -> None:
        self.task = task
        self.sub = sub
        self.code: int | None = None
        self.requested = False
        self.armed = True

    def now(self, code: int | None) -> None:
        if self.armed and not self.requested:
            self.requested, self.code = True, code
            self.task.cancel()

    def relay_ended(self) -> None:
        self.now(self.sub.close_code)

    def pump_done(self, pump: asyncio.Task[None]) -> None:
        if pump.cancelled():
            return
        error = pump.exception()
        if error is None:
            self.now(1000)
        elif isinstance(error, WebSocketDisconnect):
            self.now(None)
        else:
            log.error("job %s: event stream failed: %r", self.sub.job_id, error)
            self.now(CLOSE_INTERNAL)


async def _serve(
    stream: Stream, sub: Subscription, after: int | None, inbound: Inbound
) -> int | None:
    """Read the client in this task while one more sends the job's events; returns the
    close code, or None when the client left.

    One task per connection beyond the one uvicorn runs it in (each costs memory on
    every open connection), and the events go from that one: it resumes through a few
    frames per event, not through every middleware's as this task does.
    """
    task = asyncio.current_task()
    assert task is not None
    stop = Stop(task, sub)
    pump = asyncio.create_task(stream.run(sub, after))
    pump.add_done_callback(stop.pump_done)
    sub.on_end = stop.relay_ended
    if sub.close_code is not None:  # the relay had lost Redis already
        stop.relay_ended()
    try:
        return await inbound.drain()  # a broken rule, or None: the client left
    except asyncio.CancelledError:
        if not stop.requested:
            raise
        task.uncancel()
        return stop.code
    finally:
        stop.armed = False
        sub.on_end = None
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)


routes = [WebSocketRoute("/jobs/{job_id}/events", job_events)]
