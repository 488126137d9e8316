"""A second running jobcast with API keys, CORS, an Origin allow-list and tight limits.

It has a database and a Redis namespace of its own, so its keys never switch on
authentication for the open stack the other tests use.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.typing import Origin, Subprotocol

from store import enqueued, jobs
from store.backends import Backends, connect
from store.migrate import upgrade
from store.models import Job
from store.settings import Settings
from tests.stack import ROOT, Stack, start_stack

OWNERS = (
    *("alice", "bob", "fuzz", "greedy", "busy", "abuser", "capped", "bystander", "hygiene"),
    "leaky",
)
# The one key tests put where it does not belong (a URL, which the access log records).
LEAKED_OWNER = "leaky"
ALLOWED_ORIGIN = "https://app.example"
# A burst of 20 then one a second; the active cap above what the burst can reach, so
# each limit can be met alone.
LIMITS = {
    "JOBCAST_SUBMIT_BURST": "20",
    "JOBCAST_SUBMIT_RATE": "60",
    "JOBCAST_MAX_ACTIVE_JOBS": "30",
    "JOBCAST_WS_PER_OWNER": "16",
}


@dataclass
class Secured:
    stack: Stack
    keys: dict[str, str]
    model_key: str
    namespace: str

    def backends(self) -> Backends:
        """This stack's database and Redis, as its own processes see them."""
        env = self.stack.env
        settings = Settings(
            DATABASE_URL=env["DATABASE_URL"],
            REDIS_URL=env["REDIS_URL"],
            JOBCAST_REDIS_NAMESPACE=self.namespace,
        )
        return connect(settings, name="jobcast-test")

    @property
    def base_url(self) -> str:
        return self.stack.base_url

    def headers(self, owner: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[owner]}"}

    def client(self, owner: str | None) -> httpx.Client:
        headers = self.headers(owner) if owner else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=10)

    def submit(self, owner: str, prompt: str = "a secured job", **extra: Any) -> dict[str, Any]:
        body = {"type": "chat", "params": {"prompt": prompt}, **extra}
        with self.client(owner) as api:
            response = api.post("/jobs", json=body)
        assert response.status_code == 202, response.text
        job: dict[str, Any] = response.json()
        return job

    def keys_cli(self, *args: str, module: str = "client.cli") -> subprocess.CompletedProcess[str]:
        """`jobcast keys …` against this stack's database and Redis (or, with `module`
        "client.keys_admin", the same commands without the client)."""
        keys = ["keys"] if module == "client.cli" else []
        command = [sys.executable, "-m", module, *keys, *args]
        return subprocess.run(
            command, cwd=ROOT, env=self.stack.env, capture_output=True, text=True, timeout=30
        )

    def connect(
        self, job_id: str, key: str | None = None, origin: str | None = None, query: str = ""
    ) -> websockets.connect:
        """A WebSocket to the job's events; `key` goes as a subprotocol, as a browser sends it."""
        protocols = [Subprotocol("jobcast")]
        if key is not None:
            protocols.append(Subprotocol(f"jobcast.bearer.{key}"))
        return websockets.connect(
            f"{self.stack.ws_url}/jobs/{job_id}/events{query}",
            subprotocols=protocols,
            origin=Origin(origin) if origin else None,
            compression=None,
            open_timeout=10,
            max_queue=None,
        )


def parked_job(b: Backends, owner: str) -> Job:
    """A pending job that stays pending: its row says a message is on its way (as when
    the queue is long), so the reconciler leaves it be, and none ever reaches a worker."""
    job = jobs.create(b, type="chat", params={"prompt": "parked"}, owner=owner)
    enqueued.mark(b, job.id)
    return job


def start_secured(
    database_url: str, redis_url: str, namespace: str, logs: Path
) -> Iterator[Secured]:
    upgrade(database_url)
    keys = {owner: f"{owner}-{secrets.token_urlsafe(24)}" for owner in OWNERS}
    model_key = f"sk-never-logged-{secrets.token_hex(12)}"
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JOBCAST_REDIS_NAMESPACE": namespace,
        "JOBCAST_LLM": "simulated",
        "OPENAI_API_KEY": model_key,
        "JOBCAST_SIM_TTFT": "0.05",
        "JOBCAST_SIM_TPS": "150",
        "JOBCAST_WORKER_HEARTBEAT": "1",
        "JOBCAST_API_KEYS": ",".join(f"{owner}:{key}" for owner, key in keys.items()),
        "JOBCAST_CORS_ORIGINS": ALLOWED_ORIGIN,
        "JOBCAST_WS_ORIGINS": ALLOWED_ORIGIN,
        **LIMITS,
    }
    stack = start_stack(env, logs)
    yield Secured(stack, keys, model_key, namespace)
    stack.stop()
