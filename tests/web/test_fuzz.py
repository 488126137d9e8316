"""A property-based fuzz of the HTTP API, generated from its own OpenAPI document.

Schemathesis draws requests from `GET /openapi.json`: valid ones and ones that break the
schema on purpose (wrong types, missing fields, odd strings, huge numbers). Every
answer must be under 500 and, when it is an error, in the contract's one shape. The
seed is fixed and the number of cases bounded, so a failure reproduces.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
import schemathesis
import websockets
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Err, Ok

from tests.secured import Secured

CASES_PER_OPERATION = 150
SEED = 20261124


def assert_contract_shape(response: schemathesis.Response, label: str) -> None:
    where = f"{label}: {response.status_code} {response.text[:300]!r}"
    assert response.status_code < 500, where
    if response.status_code < 400 or label.endswith("/health"):
        return
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, where
    error = body["error"]
    assert set(error) <= {"code", "message", "details"}, where
    assert isinstance(error["code"], str) and error["code"], where
    assert isinstance(error["message"], str) and error["message"], where
    assert isinstance(error.get("details", []), list), where
    if response.status_code == 401:
        assert response.headers["www-authenticate"][0].startswith("Bearer"), where
    if response.status_code == 429:
        assert int(response.headers["retry-after"][0]) >= 1, where


@pytest.mark.timeout(300)
def test_the_api_answers_anything_without_a_server_error(secured: Secured) -> None:
    headers = secured.headers("fuzz")
    schema = schemathesis.openapi.from_url(f"{secured.base_url}/openapi.json", headers=headers)
    results = list(schema.get_all_operations())
    assert [r.err() for r in results if isinstance(r, Err)] == []  # every operation is usable
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert {op.label for op in operations} >= {"POST /jobs", "GET /jobs", "GET /jobs/{job_id}"}
    for operation in operations:
        cases = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
        fuzz(cases, secured.base_url, headers, operation.label)
    with secured.client(None) as anonymous:
        assert anonymous.get("/health").status_code == 200
    assert "Traceback" not in (secured.stack.logs / "web.log").read_text()


def fuzz(cases: Any, base_url: str, headers: dict[str, str], label: str) -> None:
    @seed(SEED)
    @settings(
        max_examples=CASES_PER_OPERATION,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # the first failure as found, unshrunk
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def check(case: schemathesis.Case[Any]) -> None:
        # Always the fuzz owner's key: a wrong or missing one stops every request at the
        # door (tests/web/test_auth.py covers that door).
        response = case.call(base_url=base_url, headers=headers, timeout=10)
        assert_contract_shape(response, label)

    check()


async def test_nul_characters_are_refused_at_the_edge(secured: Secured) -> None:
    """Found by this fuzz on PostgreSQL, whose text cannot hold NUL: they were 500s."""
    with secured.client("fuzz") as api:
        for url in ("/jobs?type=%00", "/jobs/%00", "/jobs?status=pending&cursor=a%00"):
            response = api.get(url)
            assert response.status_code == 400, response.text
            assert response.json()["error"]["code"] == "bad_request"
        # A cursor whose id part decodes to a NUL (cursors are base64 of "created|id").
        cursor = base64.urlsafe_b64encode(b"2026-11-24T00:00:00+00:00|\x00").decode()
        response = api.get("/jobs", params={"cursor": cursor})
        assert response.status_code == 422, response.text
        body = b'{"type": "chat", "params": {"prompt": "a\\u0000b"}}'
        response = api.post("/jobs", content=body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "invalid_request"
        assert api.get("/jobs?type=chat").status_code == 200  # the same connection goes on
    with pytest.raises(websockets.InvalidStatus):
        await secured.connect("%00", key=secured.keys["fuzz"])
