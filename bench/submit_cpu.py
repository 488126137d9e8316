"""`python -m bench.submit_cpu`: a web process's CPU per `POST /jobs` (probe A).

One web process on the bench's uvicorn command line (its own Valkey and database, no
worker), a warm-up, then N `chat` submits from C connections in a closed loop (each
connection sends its next request when its answer arrives). Prints the server's CPU per
submit (user + system from /proc), the rate and the latencies. `--app` measures a
baseline on the same terms (`bench.baselines.same_work:app`); `--py-spy FILE` records the
measured phase with `py-spy record --gil` (py-spy is not a dependency: pass its path).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import time

from bench.env import BenchEnv
from bench.load.http import Pool, request_bytes
from bench.measure import cpu_seconds, percentile
from bench.workload import chat_body


async def _closed_loop(port: int, count: int, connections: int) -> tuple[list[float], int]:
    """Send `count` submits over `connections` connections; latencies (ms) and non-202s."""
    raw = request_bytes("POST", "/jobs", chat_body("Describe a lighthouse"), port)
    pool = Pool(port, limit=connections)
    latencies: list[float] = []
    refused = 0
    left = count

    async def client() -> None:
        nonlocal left, refused
        while left > 0:
            left -= 1
            start = time.perf_counter()
            status, _ = await pool.request(raw)
            latencies.append((time.perf_counter() - start) * 1000)
            refused += status != 202

    await asyncio.gather(*(client() for _ in range(connections)))
    pool.close()
    return latencies, refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default="web.app:app")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database", default="auto", help="auto, sqlite or an admin URL")
    parser.add_argument("--py-spy", dest="py_spy", help="py-spy's path; records to --profile")
    parser.add_argument("--profile", default="/tmp/submit_cpu.svg")
    args = parser.parse_args()

    env = BenchEnv(args.database)
    try:
        settings = env.settings("probe-a", env.new_database("probe_a"))
        server = env.uvicorn("probe-a", args.app, settings)
        if args.app == "web.app:app":
            env.wait_web(server)
        else:
            env.wait_http(server)
        asyncio.run(_closed_loop(server.port, args.warmup, args.connections))
        spy = None
        if args.py_spy:
            command = [args.py_spy, "record", "--gil", "-p", str(server.pid)]
            # Collapsed stacks (one line each) for a .txt file, else a flame graph.
            kind = ["--format", "raw"] if args.profile.endswith(".txt") else []
            spy = subprocess.Popen([*command, *kind, "-o", args.profile, "-r", "250"])
            time.sleep(1)
        cpu_before, start = cpu_seconds(server.pid), time.perf_counter()
        latencies, refused = asyncio.run(_closed_loop(server.port, args.count, args.connections))
        elapsed, cpu = time.perf_counter() - start, cpu_seconds(server.pid) - cpu_before
        if spy is not None:
            spy.send_signal(2)  # SIGINT: py-spy writes its profile and exits
            spy.wait(timeout=60)
    finally:
        env.close()
    print(
        f"{args.app} ({env.database_kind}): {args.count} submits, {refused} not 202, "
        f"{args.count / elapsed:.0f}/s, server CPU {cpu * 1000 / args.count:.2f} ms per submit, "
        f"p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms"
    )


if __name__ == "__main__":
    main()
