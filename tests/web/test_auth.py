"""API keys: 401s and CORS in-process (tests/inprocess.py); stored keys and their
revocation, limits and WebSocket keys on a running stack."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import text
from websockets.typing import Subprotocol

from store import jobs
from store.models import Job
from tests.client import Received, read_all
from tests.inprocess import InProcess, Response
from tests.secured import ALLOWED_ORIGIN, LEAKED_OWNER, LIMITS, Secured, parked_job
from tests.stack import ROOT, free_port

PROTECTED = [
    ("GET", "/jobs"),
    ("POST", "/jobs"),
    ("GET", "/jobs/0123456789abcdef0123456789abcdef"),
    ("GET", "/job-types"),
    ("GET", "/openapi.json"),
    ("GET", "/metrics"),
    ("GET", "/no-such-route"),
]


def assert_error(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    error: dict[str, Any] = body["error"]
    return error


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_route_but_health_needs_a_key(keyed_app: InProcess, method: str, path: str) -> None:
    anonymous = keyed_app.client
    response = anonymous.request(method, path, json={"type": "chat"})
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == 'Bearer realm="jobcast"'
    health = anonymous.get("/health")  # 503 when no worker is up: in-process, there may be none
    assert health.status_code in (200, 503) and health.json()["database"] == "ok"


def test_the_dashboard_page_loads_without_a_key(keyed_app: InProcess) -> None:
    anonymous = keyed_app.client  # the page asks for the key itself
    page = anonymous.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert anonymous.get("/static/jobcast.js").status_code == 200
    assert_error(anonymous.get("/jobs"), 401, "unauthorized")  # what the page then calls


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-key-of-anyone-here", "Basic YWxpY2U6c2VjcmV0", "Bearer", "alice"],
)
def test_a_wrong_key_is_a_401_that_does_not_echo_it(
    keyed_app: InProcess, authorization: str
) -> None:
    response = keyed_app.client.get("/jobs", headers={"Authorization": authorization})
    error = assert_error(response, 401, "unauthorized")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert authorization.split()[-1] not in error["message"]


def test_a_valid_key_opens_the_api_as_its_owner(keyed_app: InProcess) -> None:
    job_id = keyed_app.submit("alice", "whose job is this")
    lower = {"Authorization": f"bearer {keyed_app.keys['alice']}"}  # the scheme is case-blind
    response = keyed_app.client.get(f"/jobs/{job_id}", headers=lower)
    assert response.status_code == 200
    assert response.json()["id"] == job_id


def _created_key(output: str) -> tuple[str, str]:
    key_id = re.search(r"created key (\w+)", output)
    key = re.search(r"key: (\S+)", output)
    assert key_id and key, output
    return key_id.group(1), key.group(1)


async def test_a_stored_key_works_until_revoked_then_stops_at_once(secured: Secured) -> None:
    created = secured.keys_cli("create", "carol")
    assert created.returncode == 0, created.stderr
    key_id, key = _created_key(created.stdout)
    carol = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=secured.base_url, headers=carol, timeout=10) as api:
        job = api.post("/jobs", json={"type": "chat", "params": {"prompt": "hi"}}).json()
        assert api.get(f"/jobs/{job['id']}").json()["id"] == job["id"]  # the key is cached now

        listing = secured.keys_cli("list", "carol")
        assert key_id in listing.stdout and key[:8] in listing.stdout
        assert key not in listing.stdout

        revoked = secured.keys_cli("revoke", key_id)
        assert revoked.returncode == 0, revoked.stderr
        assert_error(api.get(f"/jobs/{job['id']}"), 401, "unauthorized")
    async with secured.connect(job["id"], key=key) as ws:
        received = await read_all(ws)
    assert (received.messages, received.close_code) == ([], 4401)
    line = next(row for row in secured.keys_cli("list").stdout.splitlines() if key_id in row)
    assert not line.endswith(" -")  # its revocation time


def test_stored_keys_are_hashes_only(secured: Secured) -> None:
    _, key = _created_key(secured.keys_cli("create", "dave").stdout)
    b = secured.backends()
    with b.engine.connect() as db:
        rows = db.execute(text("SELECT owner, key_hash, hint FROM api_key")).all()
    b.engine.dispose()
    b.redis.close()
    assert "dave" in {owner for owner, _, _ in rows}
    assert all(key not in " ".join(row) for row in rows)
    url = secured.stack.env["DATABASE_URL"]
    if url.startswith("sqlite:///"):  # and not anywhere in the file either
        assert key.encode() not in Path(url.removeprefix("sqlite:///")).read_bytes()


def test_the_keys_command_refuses_bad_input(secured: Secured) -> None:
    assert secured.keys_cli("create", "not an owner!").returncode == 2
    assert secured.keys_cli("revoke", "no-such-key").returncode == 1
    assert secured.keys_cli("forge").returncode == 2  # argparse: not a command


def test_the_keys_commands_run_without_the_client_too(secured: Secured) -> None:
    created = secured.keys_cli("create", "erin", module="client.keys_admin")
    assert created.returncode == 0, created.stderr
    key_id, _ = _created_key(created.stdout)
    listing = secured.keys_cli("list", "erin", module="client.keys_admin")
    assert key_id in listing.stdout


def test_submissions_over_the_rate_are_a_429_with_retry_after(secured: Secured) -> None:
    burst = int(LIMITS["JOBCAST_SUBMIT_BURST"])
    body = {"type": "chat", "params": {"prompt": "again"}}
    with secured.client("greedy") as api:
        codes = [api.post("/jobs", json=body).status_code for _ in range(burst)]
        # The bucket refills at one a second: a few more may pass while these run.
        for _ in range(10):
            refused = api.post("/jobs", json=body)
            if refused.status_code != 202:
                break
    assert codes == [202] * burst
    assert_error(refused, 429, "rate_limited")
    assert int(refused.headers["retry-after"]) >= 1
    secured.submit("bystander")  # the limit is per owner


def test_active_jobs_over_the_cap_are_a_429_until_one_ends(secured: Secured) -> None:
    cap = int(LIMITS["JOBCAST_MAX_ACTIVE_JOBS"])
    body = {"type": "chat", "params": {"prompt": "one more"}}
    b = secured.backends()
    waiting: list[Job] = []
    try:
        # Jobs already waiting (say, queued while every worker was down).
        waiting += [parked_job(b, "busy") for _ in range(cap)]
        with secured.client("busy") as api:
            refused = api.post("/jobs", json=body)
            assert_error(refused, 429, "too_many_active_jobs")
            assert int(refused.headers["retry-after"]) >= 1
            secured.submit("bystander")  # the cap is per owner
            jobs.fail(b, waiting[0].id, None, {"code": "internal", "message": "gave up"})
            assert api.post("/jobs", json=body).status_code == 202
    finally:
        for job in waiting[1:]:
            jobs.fail(b, job.id, None, {"code": "internal", "message": "test over"})
        b.redis.close()
        b.engine.dispose()


def test_cors_is_off_by_default(web_app: InProcess) -> None:
    headers = {"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST"}
    preflight = web_app.client.options("/jobs", headers=headers)
    assert "access-control-allow-origin" not in preflight.headers
    simple = web_app.client.get("/jobs", headers={"Origin": ALLOWED_ORIGIN})
    assert "access-control-allow-origin" not in simple.headers


def test_cors_allows_only_the_configured_origins(keyed_app: InProcess) -> None:
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    api = keyed_app.client
    ok = api.options("/jobs", headers={"Origin": ALLOWED_ORIGIN, **ask})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    refused = api.options("/jobs", headers={"Origin": "https://evil.example", **ask})
    assert_error(refused, 400, "cors_refused")
    assert "access-control-allow-origin" not in refused.headers
    # A 401 carries CORS headers too, so the page's script can read why it was refused.
    denied = api.get("/jobs", headers={"Origin": ALLOWED_ORIGIN})
    assert denied.status_code == 401
    assert denied.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "www-authenticate" in denied.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("alice", "JOBCAST_API_KEYS: Value error, entry 1 must be owner:key"),
        ("alice:short", "JOBCAST_API_KEYS: Value error, the key of entry 1 (alice)"),
        ("a:0123456789abcdef,b:0123456789abcdef", "the same key is given twice"),
    ],
)
def test_a_malformed_key_list_is_one_line_at_start_up(value: str, expected: str) -> None:
    command = [sys.executable, "-m", "uvicorn", "web.app:app", "--port", str(free_port())]
    env = {**os.environ, "JOBCAST_API_KEYS": value}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    lines = [line for line in done.stderr.splitlines() if line.startswith("jobcast:")]
    assert done.returncode == 2
    assert len(lines) == 1 and expected in lines[0], done.stderr
    assert "short" not in lines[0] and "0123456789abcdef" not in lines[0]


# A keyless handshake is refused at once; the server used to wait 5 s for a key message.
PROMPTLY_S = 2.0


async def _keyless_attempt(
    secured: Secured,
    job_id: str,
    first: str | bytes | None = None,
    query: str = "",
    subprotocols: list[Subprotocol] | None = None,
    headers: dict[str, str] | None = None,
) -> Received:
    """Connect without a key subprotocol; send `first` (if any) and read to the close."""
    url = f"{secured.stack.ws_url}/jobs/{job_id}/events{query}"
    async with asyncio.timeout(PROMPTLY_S):
        connecting = websockets.connect(
            url, subprotocols=subprotocols, additional_headers=headers, compression=None
        )
        async with connecting as ws:
            if first is not None:
                with contextlib.suppress(websockets.ConnectionClosed):
                    await ws.send(first)
            return await read_all(ws)


async def test_a_websocket_without_a_valid_key_is_closed_4401_at_once(secured: Secured) -> None:
    job_id = secured.submit(LEAKED_OWNER, "keys on the socket")["id"]
    key = secured.keys[LEAKED_OWNER]  # a real key, in the URL: that is how keys leak
    async with secured.connect(job_id, key="not-a-key-of-anyone-here") as ws:
        wrong_subprotocol = await read_all(ws)
    jobcast = [Subprotocol("jobcast")]
    attempts = await asyncio.gather(
        _keyless_attempt(secured, job_id),  # no subprotocol, no header: nothing at all
        _keyless_attempt(secured, job_id, subprotocols=jobcast),
        _keyless_attempt(secured, job_id, query=f"?key={key}"),
        _keyless_attempt(secured, job_id, query=f"?access_token={key}"),
        _keyless_attempt(secured, job_id, headers={"Authorization": "Bearer nope-nope-nope-nope"}),
        # A key sent as a message comes too late: the handshake decides.
        _keyless_attempt(secured, job_id, json.dumps({"type": "auth", "key": key})),
    )
    for received in [wrong_subprotocol, *attempts]:
        assert (received.messages, received.close_code) == ([], 4401)


async def test_a_program_may_send_the_key_as_an_authorization_header(secured: Secured) -> None:
    job_id = secured.submit("alice", "auth by header")["id"]
    url = f"{secured.stack.ws_url}/jobs/{job_id}/events"
    headers = {"Authorization": f"Bearer {secured.keys['alice']}"}
    async with websockets.connect(url, additional_headers=headers, compression=None) as ws:
        received = await read_all(ws)
    assert received.messages[0]["type"] == "snapshot"
    assert received.messages[-1]["status"] == "completed"
    assert received.close_code == 1000


async def test_the_server_accepts_the_jobcast_subprotocol_and_never_echoes_the_key(
    secured: Secured,
) -> None:
    job_id = secured.submit("alice", "which protocol")["id"]
    async with secured.connect(job_id, key=secured.keys["alice"]) as ws:
        assert ws.subprotocol == "jobcast"
        assert ws.response is not None
        assert secured.keys["alice"] not in str(ws.response.headers)
        assert (await read_all(ws)).close_code == 1000
