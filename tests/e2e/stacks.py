"""Stacks of their own for tests that need other settings than the session's `stack`.

Each gets its own SQLite database and a Redis namespace under the run's own (so its
queue, events and workers are apart from the session stack's, and its keys are cleaned
up with the run's).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from store.migrate import upgrade
from tests.openai_server import OpenAIServer
from tests.stack import Stack, start_stack

# As fast as the session stack: tests wait on events, not on a slow stand-in model.
FAST_DEFAULTS = {
    "JOBCAST_LLM": "simulated",
    "JOBCAST_SIM_TTFT": "0.05",
    "JOBCAST_SIM_TPS": "150",
    "JOBCAST_WORKER_HEARTBEAT": "1",
}


LOOPBACK_KEY = "sk-e2e-Loopback-0123456789abcdef"


def loopback_model(
    server: OpenAIServer, model: str = "loop-default", key: str = LOOPBACK_KEY
) -> dict[str, str]:
    """Settings for workers on the openai provider, served by the tests' loopback server."""
    return {
        "JOBCAST_LLM": "openai",
        "OPENAI_BASE_URL": server.url,
        "OPENAI_API_KEY": key,
        "JOBCAST_MODEL": model,
    }


def _prepare(name: str, redis_url: str, namespace: str, root: Path) -> tuple[dict[str, str], Path]:
    database_url = f"sqlite:///{root / f'{name}.db'}"
    upgrade(database_url)  # Alembic's context is global: one migration at a time
    logs = root / f"{name}-logs"
    logs.mkdir()
    own = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JOBCAST_REDIS_NAMESPACE": f"{namespace}:{name}",
    }
    return {**FAST_DEFAULTS, **own}, logs


def start_own_stack(
    name: str,
    redis_url: str,
    namespace: str,
    root: Path,
    env: dict[str, str],
    processes: int = 1,
) -> Stack:
    base, logs = _prepare(name, redis_url, namespace, root)
    return start_stack({**base, **env}, logs, processes)


def start_own_stacks(
    redis_url: str, namespace: str, root: Path, envs: dict[str, dict[str, str]]
) -> dict[str, Stack]:
    """Several stacks started side by side (each start waits for its processes)."""
    prepared = {name: _prepare(name, redis_url, namespace, root) for name in envs}
    with ThreadPoolExecutor(max_workers=len(envs)) as pool:
        futures = {
            name: pool.submit(start_stack, {**base, **envs[name]}, logs)
            for name, (base, logs) in prepared.items()
        }
    errors = [error for future in futures.values() if (error := future.exception())]
    if errors:
        for future in futures.values():
            if future.exception() is None:
                future.result().stop()
        raise errors[0]
    return {name: future.result() for name, future in futures.items()}
