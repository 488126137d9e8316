"""A real HTTP server on loopback that speaks OpenAI's chat-completions protocol.

The fake sits at the model boundary only: the `openai` client (and the worker processes
that use it) talk HTTP/1.1 to it over TCP, as they would to OpenAI, Ollama or vLLM.
Each request is answered by the next planned reply of the first plan whose marker occurs
in the request's messages (a plain streamed reply when none matches), and is recorded with
what the server saw: the body, the headers, when it came, how many chunks went out and
whether the client went away before the reply ended.

    server = OpenAIServer().start()
    server.plan("lighthouse", Fail(429, "slow down", {"Retry-After": "1"}), Stream("Hi"))
    ... point the client at server.url ...
    server.seen("lighthouse")  # the requests, in order

`OpenAIServer(response_formats={"text", "json_object"})` refuses any other
`response_format` type as llama-cpp-python's server does: 500, with the request's
validation error as the message (the refused request is recorded, no plan is used up).

`server.limit_tokens(1000, window=2.0)` makes it count tokens as OpenAI does, when the
request arrives (the prompt's plus the reply's it is about to send), and answer 429 with
`Retry-After` to a request that would take the last `window` seconds over the limit
(recorded with `rate_limited`, no plan used up). It may be changed at any time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_TEXT = "The keeper lit the lamp and the ships came home safely through the fog."
# What llama-cpp-python 0.3.36's server answers (with status 500) to `json_schema`.
LLAMA_CPP_REFUSAL = (
    "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', "
    "'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': '%s', 'ctx': "
    "{'expected': \"'text' or 'json_object'\"}}\n"
)


@dataclass
class Stream:
    """A streamed reply: one SSE chunk per word of `text`, then usage and [DONE]."""

    text: str = DEFAULT_TEXT
    delay: float = 0.0  # between chunks
    first_delay: float = 0.0  # before the first chunk (a slow model's time to first token)
    usage: tuple[int, int] | None = None  # (prompt, completion) the server reports
    cut_after: int | None = None  # close the connection after this many chunks
    finish: bool = True  # False: end cleanly but without finish_reason or usage (a lost tail)


@dataclass
class Fail:
    """An error answer: `status` with OpenAI's error body and extra headers."""

    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    error_type: str = "error"


@dataclass
class Recorded:
    """A real server's streamed reply, replayed byte for byte: the SSE body of a recording
    (tests/fixtures/*.sse), written as one HTTP chunk per SSE event, `delay` apart."""

    body: bytes
    delay: float = 0.0

    @classmethod
    def load(cls, path: Path, delay: float = 0.0) -> Recorded:
        return cls(path.read_bytes(), delay)

    def events(self) -> list[bytes]:
        return [event + b"\n\n" for event in self.body.split(b"\n\n") if event.strip()]


Reply = Stream | Fail | Recorded


@dataclass
class Seen:
    """One request as the server saw it."""

    at: float  # time.monotonic() when the request arrived
    body: dict[str, Any]
    headers: dict[str, str]
    chunks_sent: int = 0
    finished: bool = False  # the whole reply went out
    client_closed_at: float | None = None  # the client went away before the reply ended
    rate_limited: bool = False  # answered 429 by the token limit

    @property
    def prompt(self) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))


class OpenAIServer:
    def __init__(self, response_formats: set[str] | None = None) -> None:
        self.response_formats = response_formats  # None: any type is accepted
        self._plans: list[tuple[str, list[Reply]]] = []
        self.requests: list[Seen] = []
        self._changed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0
        self._token_limit: TokenLimit | None = None
        self._counted: list[tuple[float, int]] = []  # (arrival, tokens) of admitted requests

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> OpenAIServer:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        )
        self._server = started.result(timeout=10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            # Connections still open (a client keeps idle ones alive) are dropped.
            for writer in list(self._writers):
                writer.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()

    def plan(self, marker: str, *replies: Reply) -> None:
        """Answer the next requests whose messages contain `marker` with `replies`, in order."""
        with self._changed:
            self._plans.append((marker, list(replies)))

    def limit_tokens(self, tokens: int, window: float = 60.0, retry_after: float = 1.0) -> None:
        """From now on, at most `tokens` per `window` seconds; over it, 429 + Retry-After."""
        with self._changed:
            self._token_limit = TokenLimit(tokens, window, retry_after)

    def tokens_in_window(self) -> int:
        """The tokens the limit counts now (admitted requests of the last window)."""
        with self._changed:
            return self._recent_tokens(time.monotonic())

    def seen(self, marker: str = "") -> list[Seen]:
        with self._changed:
            return [r for r in self.requests if marker in r.prompt]

    def request(self, marker: str = "", timeout: float = 10) -> Seen:
        """The first request whose messages contain `marker`, once it has arrived."""
        self.wait_for(lambda: self.seen(marker), timeout)
        return self.seen(marker)[0]

    def wait_for(self, condition: Any, timeout: float = 10) -> None:
        """Block until `condition()` is true (the server's state changes are notified)."""
        with self._changed:
            if not self._changed.wait_for(condition, timeout=timeout):
                raise TimeoutError("the loopback model server never saw that happen")

    def _next_reply(self, seen: Seen) -> Reply:
        with self._changed:
            self.requests.append(seen)
            self._changed.notify_all()
            asked = (seen.body.get("response_format") or {}).get("type", "text")
            if self.response_formats is not None and asked not in self.response_formats:
                return Fail(500, LLAMA_CPP_REFUSAL % asked, error_type="internal_server_error")
            planned = next((r for m, r in self._plans if m in seen.prompt and r), None)
            reply = planned[0] if planned else Stream()
            if isinstance(reply, Stream) and (refusal := self._over_limit(seen, reply)):
                seen.rate_limited = True
                return refusal
            if planned:
                planned.pop(0)
            return reply

    def _over_limit(self, seen: Seen, reply: Stream) -> Fail | None:
        """Count the request's tokens, or refuse it when they would cross the limit."""
        limit = self._token_limit
        if limit is None:
            return None
        tokens = sum(_token_counts(seen, reply))
        if self._recent_tokens(seen.at) + tokens > limit.tokens:
            headers = {"Retry-After": f"{limit.retry_after:g}"}
            return Fail(429, "Rate limit reached for tokens per min (TPM)", headers)
        self._counted.append((seen.at, tokens))
        return None

    def _recent_tokens(self, now: float) -> int:
        window = self._token_limit.window if self._token_limit else 0.0
        self._counted = [(at, n) for at, n in self._counted if at > now - window]
        return sum(n for _, n in self._counted)

    def _note(self) -> None:
        with self._changed:
            self._changed.notify_all()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Serve one request; False when the connection is to be closed."""
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in header_lines if line)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        method, path, _ = request_line.split(" ", 2)
        if method != "POST" or not path.endswith("/chat/completions"):
            await _send_json(writer, 404, {"error": {"message": f"no route {path}"}})
            return True
        seen = Seen(time.monotonic(), json.loads(body or b"{}"), headers)
        reply = self._next_reply(seen)
        if isinstance(reply, Fail):
            error = {"message": reply.message, "type": reply.error_type, "code": None}
            await _send_json(writer, reply.status, {"error": error}, reply.headers)
            return True
        if isinstance(reply, Recorded):
            return await self._replay(writer, seen, reply)
        return await self._stream(reader, writer, seen, reply)

    async def _replay(self, writer: asyncio.StreamWriter, seen: Seen, reply: Recorded) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        for event in reply.events():
            if reply.delay and seen.chunks_sent:
                await asyncio.sleep(reply.delay)
            writer.write(b"%x\r\n%s\r\n" % (len(event), event))
            await writer.drain()
            seen.chunks_sent += 1
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        seen.finished = True
        self._note()
        return True

    async def _stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: Seen, reply: Stream
    ) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        # The client sends nothing more while it reads a reply: EOF here means it hung up.
        hung_up = asyncio.ensure_future(reader.read(1))
        try:
            for data in _events(seen, reply):
                pause = reply.delay if seen.chunks_sent else reply.first_delay
                await asyncio.wait([hung_up], timeout=pause)
                if hung_up.done():
                    seen.client_closed_at = time.monotonic()
                    self._note()
                    return False
                if reply.cut_after is not None and seen.chunks_sent >= reply.cut_after:
                    return False  # mid-stream: no terminating chunk, connection closed
                payload = f"data: {data}\n\n".encode()
                writer.write(b"%x\r\n%s\r\n" % (len(payload), payload))
                await writer.drain()
                seen.chunks_sent += 1
                self._note()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            seen.finished = True
            self._note()
            return True
        finally:
            hung_up.cancel()
            # The next request may only be read once this read has really stopped.
            with contextlib.suppress(asyncio.CancelledError):
                await hung_up


@dataclass(frozen=True)
class TokenLimit:
    tokens: int
    window: float
    retry_after: float


def _token_counts(seen: Seen, reply: Stream) -> tuple[int, int]:
    """(prompt, completion) tokens of a reply, as its usage chunk reports them."""
    return reply.usage or (len(seen.prompt.split()), len(reply.text.split(" ")))


def _events(seen: Seen, reply: Stream) -> list[str]:
    """The SSE data lines of a streamed reply, as OpenAI sends them."""
    model = seen.body.get("model", "loop-model")
    words = reply.text.split(" ")
    tokens = [w + " " for w in words[:-1]] + [words[-1]]
    base = {"id": "chatcmpl-loop", "object": "chat.completion.chunk", "created": 0, "model": model}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return json.dumps({**base, "choices": [choice]})

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": token}) for token in tokens]
    if not reply.finish:
        return [*events, "[DONE]"]
    events.append(chunk({}, "stop"))
    if (seen.body.get("stream_options") or {}).get("include_usage"):
        prompt, completion = _token_counts(seen, reply)
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        events.append(json.dumps({**base, "choices": [], "usage": usage}))
    events.append("[DONE]")
    return events


async def _send_json(
    writer: asyncio.StreamWriter, status: int, body: Any, headers: dict[str, str] | None = None
) -> None:
    data = json.dumps(body).encode()
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    writer.write(
        f"HTTP/1.1 {status} Status\r\ncontent-type: application/json\r\n"
        f"content-length: {len(data)}\r\n{extra}\r\n".encode()
        + data
    )
    await writer.drain()
