"""`python -m bench.load.pollers`: clients that poll `GET /jobs/{id}` every INTERVAL s.

Each client polls its own job on its own phase; a poll that is still waiting for its
answer when the next is due makes that one wait (as a careful browser would). When an
answer shows a newer `seq` than the client saw before, its staleness is the time since
the job's `updated_at` (set when the event was published). Prints one JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from datetime import datetime
from typing import Any

from bench.load.http import Pool, request_bytes
from bench.measure import sample, summary


async def poll(port: int, ids: list[str], interval: float, seconds: float) -> dict[str, Any]:
    pool = Pool(port, limit=len(ids))
    loop = asyncio.get_running_loop()
    staleness: list[float] = []
    latencies: list[float] = []
    errors = 0
    start = loop.time() + 0.1
    rng = random.Random(4)

    async def client(job_id: str) -> None:
        nonlocal errors
        raw = request_bytes("GET", f"/jobs/{job_id}", port=port)
        seen = -1
        due = start + rng.uniform(0, interval)
        while due < start + seconds:
            await asyncio.sleep(max(0.0, due - loop.time()))
            t0 = loop.time()
            status, body = await pool.request(raw)
            latencies.append((loop.time() - t0) * 1000)
            if status != 200:
                errors += 1
            else:
                job = json.loads(body)
                if seen >= 0 and job["seq"] > seen:
                    updated = datetime.fromisoformat(job["updated_at"].replace("Z", "+00:00"))
                    staleness.append((time.time() - updated.timestamp()) * 1000)
                seen = job["seq"]
            due = max(due + interval, loop.time())

    await asyncio.gather(*(client(job_id) for job_id in ids))
    pool.close()
    return {
        "polls": len(latencies),
        "polls_per_s": len(latencies) / seconds,
        "errors": errors,
        "request_ms": summary(latencies),
        "staleness": summary(staleness),
        "staleness_sample": sample(staleness, 3000),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ids", required=True, help="a file with one job id a line")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args()
    with open(args.ids) as f:
        ids = [line.strip() for line in f if line.strip()]
    print(json.dumps(asyncio.run(poll(args.port, ids, args.interval, args.seconds))), flush=True)


if __name__ == "__main__":
    main()
