"""Coalescing: many small writes become few `output` events, and no text is lost."""

from __future__ import annotations

import asyncio

import pytest

from actors.pipeline.output import OutputStream


async def test_tokens_are_coalesced_into_few_chunks_that_add_up() -> None:
    chunks: list[str] = []

    async def publish(chunk: str) -> None:
        chunks.append(chunk)

    tokens = [f"t{n} " for n in range(60)]
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with OutputStream(publish, interval=0.05) as out:
        for token in tokens:
            await out.write(token)
            await asyncio.sleep(0.005)  # a model streaming at ~200 tokens/s
    elapsed = loop.time() - started
    assert "".join(chunks) == "".join(tokens) == out.text
    # At most a chunk per 50 ms (and the last at the end): ~0.3 s of tokens make about
    # 7 chunks, not 60 (more on a loaded machine, where the sleeps take longer).
    assert 2 <= len(chunks) <= elapsed / 0.05 + 2


async def test_a_pause_in_the_stream_still_flushes_what_was_written() -> None:
    published = asyncio.Event()
    chunks: list[str] = []

    async def publish(chunk: str) -> None:
        chunks.append(chunk)
        published.set()

    async with OutputStream(publish, interval=0.05) as out:
        await out.write("first ")  # flushed at once: nothing was sent yet
        published.clear()
        await out.write("second")  # inside the interval: held back, then sent by the timer
        await asyncio.wait_for(published.wait(), timeout=2)
        assert chunks == ["first ", "second"]
    assert chunks == ["first ", "second"]


async def test_text_whose_publish_failed_goes_out_with_the_next_flush() -> None:
    chunks: list[str] = []
    failures = [ConnectionError("Redis went away")]

    async def publish(chunk: str) -> None:
        if failures:
            raise failures.pop()
        chunks.append(chunk)

    async with OutputStream(publish, interval=0.05) as out:
        with pytest.raises(ConnectionError):
            await out.write("first ")  # flushed at once, and refused
        await out.write("second")
    assert chunks == ["first second"]


async def test_text_written_during_a_slow_publish_goes_out_together() -> None:
    chunks: list[str] = []

    async def publish(chunk: str) -> None:
        if not chunks:
            await asyncio.sleep(0.2)  # Redis slow to answer the first event
        chunks.append(chunk)

    async with OutputStream(publish, interval=0.05) as out:
        await out.write("a ")  # flushed at once, answered after 0.2 s
        for token in ("b ", "c ", "d "):  # the backlog the model sent meanwhile
            await out.write(token)
    # One event for the backlog, not one for its first token and one for the rest.
    assert chunks == ["a ", "b c d "]
