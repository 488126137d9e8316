"""Secrets stay secret: no key, stored or configured, and no model key in logs or answers."""

from __future__ import annotations

import re

import httpx
import websockets

from tests.client import read_all
from tests.secured import LEAKED_OWNER, Secured


async def test_keys_never_reach_logs_answers_or_events(secured: Secured) -> None:
    created = secured.keys_cli("create", "stored-owner")
    stored = re.search(r"key: (\S+)", created.stdout)
    assert stored, created.stdout
    answers: list[str] = []

    # Every way a key is used or refused, over REST and the WebSocket.
    for key in (stored.group(1), secured.keys["hygiene"]):
        auth = {"Authorization": f"Bearer {key}"}
        wrong = {"Authorization": f"Bearer {key}x"}
        with httpx.Client(base_url=secured.base_url, timeout=10) as api:
            job = api.post("/jobs", json={"type": "chat", "params": {"prompt": "p"}}, headers=auth)
            job_id = job.json()["id"]
            answers += [job.text, api.get("/jobs", headers=wrong).text]
            answers += [
                api.get(path, headers=auth).text for path in ("/job-types", "/openapi.json")
            ]
            answers += [api.get("/health").text, api.get("/jobs/nope", headers=auth).text]
            answers.append(api.post("/jobs", content=b"{", headers=auth).text)
        async with secured.connect(job_id, key=key) as ws:
            answers += (await read_all(ws)).raw
        async with secured.connect(job_id, key=f"{key}x") as ws:
            answers += (await read_all(ws)).raw
        url = f"{secured.stack.ws_url}/jobs/{job_id}/events"
        async with websockets.connect(url, additional_headers=wrong, compression=None) as ws:
            answers += (await read_all(ws)).raw
        with httpx.Client(base_url=secured.base_url, headers=auth, timeout=10) as api:
            answers.append(api.get(f"/jobs/{job_id}").text)

    secrets = {
        "stored key": stored.group(1),
        "model key": secured.model_key,
        **{f"key of {o}": k for o, k in secured.keys.items() if o != LEAKED_OWNER},
    }
    logs = {name: (secured.stack.logs / name).read_text() for name in ("web.log", "worker.log")}
    for what, secret in secrets.items():
        for name, text in logs.items():
            assert secret not in text, f"the {what} is in {name}"
        assert not [answer for answer in answers if secret in answer], f"the {what} was answered"
    assert "WebSocket /jobs/" in logs["web.log"]  # the log does record requests
