"""Submit and pickup on each broker, side by side in one run (docs/brokers.md).

    .venv/bin/python -m bench.brokers --rabbitmq-url amqp://guest:guest@127.0.0.1:5672/VHOST

S2's measurement (bench/scenarios/s2_pickup.py: one job at a time after the worker idled,
from sending POST /jobs to `running` on its WebSocket) on one stack per broker, the two
stacks alike but for JOBCAST_BROKER: the `202` time is the submit (the web process's send
to the broker included), `running` is the pickup. Then the idle worker's cost. The vhost
given is used as is: give one of its own (`rabbitmqctl add_vhost`), it is left with
jobcast's queues in it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time

from bench.env import BenchEnv
from bench.measure import summary
from bench.result import fmt
from bench.scenarios.s2_pickup import _idle_cost, _one
from bench.workload import noop

Run = tuple[list[dict[str, float]], dict[str, float]]


def _samples(env: BenchEnv, name: str, jobs: int, broker: dict[str, str]) -> Run:
    """S2's stages of each job, and the idle worker's cost."""
    rng, work = random.Random(2), noop()
    settings = env.settings(name, env.new_database(name), **work.settings, **broker)
    web = env.uvicorn(f"{name}-web", "web.app:app", settings)
    worker = env.dramatiq(f"{name}-worker", "actors", settings, processes=1, threads=8)
    try:
        env.wait_web(web)
        asyncio.run(_one(web.port, work.body))  # warm-up; also waits for the worker
        stages = []
        for _ in range(jobs):
            time.sleep(rng.uniform(0.25, 0.5))  # an idle worker, as in S2
            stages.append(asyncio.run(_one(web.port, work.body)))
        return stages, _idle_cost(env, worker.pid, 5.0)
    finally:
        env.stop(web, worker)


def _row(broker: str, run: Run) -> str:
    stages, idle = run
    cells = []
    for stage in ("answered", "running", "server"):
        s = summary([sample[stage] for sample in stages])
        cells.append(f"{fmt(s['p50'])} / {fmt(s['p99'])}")
    cost = f"{idle['commands_per_s']:.1f}, {idle['worker_cores']:.3f}"
    return f"| {broker} | {' | '.join(cells)} | {cost} |"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.brokers")
    parser.add_argument("--rabbitmq-url", required=True, help="amqp://…/vhost of its own")
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--database", default="sqlite", help="sqlite, auto or a PostgreSQL URL")
    args = parser.parse_args()
    env = BenchEnv(database=args.database)
    rabbitmq = {"JOBCAST_BROKER": "rabbitmq", "RABBITMQ_URL": args.rabbitmq_url}
    try:
        runs = {
            "redis": _samples(env, "brokers-redis", args.jobs, {}),
            "rabbitmq": _samples(env, "brokers-rabbitmq", args.jobs, rabbitmq),
        }
    finally:
        env.close()
    print(f"{args.jobs} jobs on each broker, {env.database_kind}; ms, p50 / p99")
    print(
        "| broker | submit (`202`) | pickup (`running` seen) | server (row → `running`) "
        "| idle worker: Redis commands/s, cores |"
    )
    print("| --- | --- | --- | --- | --- |")
    for broker, run in runs.items():
        print(_row(broker, run))


if __name__ == "__main__":
    main()
