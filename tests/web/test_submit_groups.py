"""Concurrent POST /jobs through the app (where they share group commits), on SQLite and
PostgreSQL: every client gets its own answer, as if each had been alone."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.inprocess import InProcess, settings_of

CONCURRENT = 24


@pytest.fixture(scope="module")
def app(database_url: str, redis_url: str, namespace: str) -> Iterator[InProcess]:
    from web.app import create_app

    roomy = {"JOBCAST_MAX_ACTIVE_JOBS": 1000, "JOBCAST_SUBMIT_BURST": 1000}
    settings = settings_of(database_url, redis_url, namespace, **roomy)
    web = create_app(settings)
    with TestClient(web) as client:
        yield InProcess(web, client, keys={})


def _post(app: InProcess, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return app.client.post("/jobs", json=body, headers=headers)


def test_concurrent_submits_each_get_their_own_job(app: InProcess) -> None:
    prompts = [f"concurrent {i} {secrets.token_hex(4)}" for i in range(CONCURRENT)]
    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        answers = list(
            pool.map(lambda p: _post(app, {"type": "chat", "params": {"prompt": p}}), prompts)
        )
    assert [a.status_code for a in answers] == [202] * CONCURRENT
    ids = [a.json()["id"] for a in answers]
    assert len(set(ids)) == CONCURRENT
    for answer, prompt in zip(answers, prompts, strict=True):
        assert answer.headers["location"] == f"/jobs/{answer.json()['id']}"
        fetched = app.client.get(answer.headers["location"]).json()
        assert fetched["params"]["prompt"] == prompt


def test_concurrent_retries_of_one_key_get_one_job(app: InProcess) -> None:
    key, body = secrets.token_hex(8), {"type": "chat", "params": {"prompt": "retried"}}
    others = [{"type": "chat", "params": {"prompt": f"other {i}"}} for i in range(8)]

    def send(item: dict[str, Any] | None) -> Any:
        return _post(app, body, key) if item is None else _post(app, item)

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(send, [None, *others[:4], None, *others[4:], None]))
    assert [a.status_code for a in answers] == [202] * len(answers)
    keyed = [answers[0], answers[5], answers[10]]
    assert len({a.json()["id"] for a in keyed}) == 1
    assert sorted(a.headers.get("idempotent-replayed", "") for a in keyed) == ["", "true", "true"]
    assert len({a.json()["id"] for a in answers}) == 1 + len(others)


def test_a_mistake_in_one_submit_leaves_the_concurrent_ones_alone(app: InProcess) -> None:
    key = secrets.token_hex(8)
    good = {"type": "chat", "params": {"prompt": "first use"}}
    reused = {"type": "chat", "params": {"prompt": "another request"}}
    assert _post(app, good, key).status_code == 202
    items = [(reused, key)] + [
        ({"type": "chat", "params": {"prompt": f"ok {i}"}}, None) for i in range(6)
    ]
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        answers = list(pool.map(lambda item: _post(app, *item), items))
    assert answers[0].status_code == 422
    assert answers[0].json()["error"]["code"] == "idempotency_key_reused"
    assert [a.status_code for a in answers[1:]] == [202] * 6
