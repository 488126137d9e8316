"""The web app in the test process under Starlette's TestClient: no uvicorn, no worker.

For routes whose answer needs no worker: validation, 404s and 409s, API keys, listing,
job types, the OpenAPI document, the dashboard, health, metrics. The app runs its real
lifespan on the test run's own Redis and SQLite database, with the settings the session
`stack` has: `web.app` and `actors` read them from the environment, which
tests/conftest.py points at both before any test module is imported, and the broker
they build is the one the app enqueues on. So a job accepted here is run by the
`stack`'s worker when that stack is up in this session, and stays pending when it is
not: tests here assert nothing that depends on which (`parked` jobs stay pending).

`web` is imported inside the fixtures: tests/conftest.py imports this module before
the environment is set.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from store import jobs
from store.backends import Backends
from store.models import Job
from store.settings import Settings
from tests.secured import ALLOWED_ORIGIN, parked_job

# Starlette's TestClient speaks httpx2 (the fork of httpx that openai brings); the tests
# of running processes use httpx. Helpers that read an answer take either.
Response = httpx.Response | httpx2.Response

# Owners of the keyed app, each with a key of its own.
OWNERS = ("alice", "bob")


@dataclass
class InProcess:
    """A started app (its lifespan has run) and what tests need around it."""

    app: Starlette
    client: TestClient
    keys: dict[str, str]

    @property
    def backends(self) -> Backends:
        """The app's own connections (its lifespan made them)."""
        b: Backends = self.app.state.backends
        return b

    def headers(self, owner: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[owner]}"} if self.keys else {}

    def submit(self, owner: str = "anonymous", prompt: str = "in-process", **extra: Any) -> str:
        body = {"type": "chat", "params": {"prompt": prompt}, **extra}
        response = self.client.post("/jobs", json=body, headers=self.headers(owner))
        assert response.status_code == 202, response.text
        job_id: str = response.json()["id"]
        return job_id

    def parked(self, owner: str = "anonymous") -> Job:
        """A pending job no worker ever gets (tests/secured.py `parked_job`)."""
        return parked_job(self.backends, owner)

    def ended(self, owner: str = "anonymous") -> Job:
        """A job that has ended (failed), made through the lifecycle, as a worker would."""
        job = self.parked(owner)
        return jobs.fail(self.backends, job.id, None, {"code": "llm_error", "message": "no"})


def settings_of(database_url: str, redis_url: str, namespace: str, **env: Any) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        JOBCAST_REDIS_NAMESPACE=namespace,
        JOBCAST_LLM="simulated",
        **env,
    )


@pytest.fixture(scope="session")
def web_app() -> Iterator[InProcess]:
    """`web.app.app` itself, as `uvicorn web.app:app` serves it: no API keys, CORS off."""
    from web.app import app

    with TestClient(app) as client:
        yield InProcess(app, client, keys={})


@pytest.fixture(scope="session")
def keyed_app(sqlite_url: str, redis_url: str, namespace: str) -> Iterator[InProcess]:
    """The app with API keys (one per owner in OWNERS), CORS and an Origin allow-list.

    Keys come from JOBCAST_API_KEYS, not the database: a stored key would switch keys on
    for the `stack` that shares the database.
    """
    from web.app import create_app

    keys = {owner: f"{owner}-{secrets.token_urlsafe(24)}" for owner in OWNERS}
    settings = settings_of(
        sqlite_url,
        redis_url,
        namespace,
        JOBCAST_API_KEYS=",".join(f"{owner}:{key}" for owner, key in keys.items()),
        JOBCAST_CORS_ORIGINS=ALLOWED_ORIGIN,
        JOBCAST_WS_ORIGINS=ALLOWED_ORIGIN,
        JOBCAST_ADMIN_OWNERS=OWNERS[0],  # may read GET /debug
    )
    app = create_app(settings)
    with TestClient(app) as client:
        yield InProcess(app, client, keys)
