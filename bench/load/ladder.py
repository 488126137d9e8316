"""`python -m bench.load.ladder`: one request at rising constant rates until p99 breaks.

Prints one JSON line per rate step: the step's latencies (ms from when each request
was due), errors and status counts. Stops after the first step whose p99 reaches
`--limit-ms` or that had errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from bench.load.http import Pool, open_loop, request_bytes
from bench.measure import percentile


async def ladder(args: argparse.Namespace) -> None:
    raw = request_bytes(args.method, args.path, args.body.encode(), args.port)
    pool = Pool(args.port, limit=args.connections)
    await open_loop(pool, raw, rate=min(50.0, args.rates[0]), seconds=0.5)  # warm-up
    for rate in args.rates:
        step = await open_loop(pool, raw, rate=rate, seconds=args.seconds)
        p99 = percentile(step.latencies_ms, 99)
        print(json.dumps(step.__dict__), flush=True)
        if step.errors or p99 >= args.limit_ms or set(step.statuses) - {200, 202}:
            break
        await asyncio.sleep(args.pause)  # let a backlog drain between steps
    pool.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--method", default="POST")
    parser.add_argument("--path", default="/jobs")
    parser.add_argument("--body", default="")
    parser.add_argument("--rates", type=lambda s: [float(r) for r in s.split(",")], required=True)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--pause", type=float, default=1.0)
    parser.add_argument("--limit-ms", type=float, default=100.0)
    parser.add_argument("--connections", type=int, default=256)
    asyncio.run(ladder(parser.parse_args()))


if __name__ == "__main__":
    main()
