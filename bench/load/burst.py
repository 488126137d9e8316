"""`python -m bench.load.burst`: submit COUNT jobs as fast as CONCURRENCY allows.

Prints one JSON object: wall-clock start and end, the job ids, and the 202 latencies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bench.load.http import Pool, request_bytes

if TYPE_CHECKING:
    from bench.load.child import Child


async def burst(port: int, body: bytes, count: int, concurrency: int) -> dict[str, object]:
    pool = Pool(port, limit=concurrency)
    raw = request_bytes("POST", "/jobs", body, port)
    ids: list[str] = []
    latencies: list[float] = []
    errors = 0
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        nonlocal errors
        async with gate:
            t0 = time.perf_counter()
            status, answer = await pool.request(raw)
            latencies.append((time.perf_counter() - t0) * 1000)
            if status == 202:
                ids.append(json.loads(answer)["id"])
            else:
                errors += 1

    start = time.time()
    await asyncio.gather(*(one() for _ in range(count)))
    end = time.time()
    pool.close()
    return {"start": start, "end": end, "ids": ids, "latencies_ms": latencies, "errors": errors}


def submit_burst(
    port: int, body: bytes, count: int, concurrency: int, wrap: Sequence[str] = ()
) -> Child:
    """Start a load generator process submitting `count` jobs; `.result()` has its figures."""
    from bench.load.child import Child  # not at the top: the load generator itself skips it

    return Child(
        "bench.load.burst",
        *("--port", str(port), "--body", body.decode()),
        *("--count", str(count), "--concurrency", str(concurrency)),
        wrap=wrap,
    )


def accepted(result: dict[str, Any], count: int) -> list[str]:
    """The ids of a burst's jobs; an error when any submission was refused."""
    ids: list[str] = result["ids"]
    if len(ids) != count:
        raise RuntimeError(f"only {len(ids)} of {count} submissions got 202")
    return ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    result = asyncio.run(burst(args.port, args.body.encode(), args.count, args.concurrency))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
