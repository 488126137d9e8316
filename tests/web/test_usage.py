"""Budgets at submit and `GET /usage`, in-process: the ledger's rows are written here as a
worker's meter writes them (store/ledger.py), so no worker is needed."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from store import ledger
from store.budgets import period_start
from store.models import LedgerEntry, utcnow
from tests.inprocess import InProcess, settings_of

# Owners of their own, so rows other tests write never count here.
RUN = secrets.token_hex(4)
CAPPED, MONTHLY, FREE = f"capped-{RUN}", f"monthly-{RUN}", f"free-{RUN}"
# Submits no job: a job of FREE's that the session stack's worker runs adds to its ledger.
TALLIED = f"tallied-{RUN}"
BUDGETS = f"{CAPPED}=1/day,{MONTHLY}=5/month"


@pytest.fixture(scope="module")
def budgeted(sqlite_url: str, redis_url: str, namespace: str) -> Iterator[InProcess]:
    from web.app import create_app

    keys = {
        owner: f"{owner}-{secrets.token_urlsafe(24)}" for owner in (CAPPED, MONTHLY, FREE, TALLIED)
    }
    settings = settings_of(
        sqlite_url,
        redis_url,
        namespace,
        JOBCAST_API_KEYS=",".join(f"{owner}:{key}" for owner, key in keys.items()),
        JOBCAST_BUDGETS=BUDGETS,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        yield InProcess(app, client, keys)


def charge(app: InProcess, owner: str, cost: float, **fields: Any) -> None:
    """One call's row, as a worker's meter writes it."""
    entry: dict[str, Any] = {"job_id": "j" * 32, "type": "chat", "provider": "simulated"}
    entry.update(model="simulated-1", stage="answer", prompt_tokens=10, completion_tokens=20)
    ledger.record(app.backends, LedgerEntry.model_validate({**entry, **fields, "owner": owner,
                                                            "cost": cost}))  # fmt: skip


def submit(app: InProcess, owner: str) -> tuple[int, dict[str, object], dict[str, str]]:
    body = {"type": "chat", "params": {"prompt": "spend"}}
    response = app.client.post("/jobs", json=body, headers=app.headers(owner))
    return response.status_code, response.json(), dict(response.headers)


def test_a_submit_is_refused_with_budget_exhausted_once_the_period_is_spent(
    budgeted: InProcess,
) -> None:
    charge(budgeted, CAPPED, 0.6)
    assert submit(budgeted, CAPPED)[0] == 202  # $0.60 of $1: still under
    charge(budgeted, CAPPED, 0.4)
    status, body, headers = submit(budgeted, CAPPED)
    assert status == 429
    error = body["error"]
    assert isinstance(error, dict) and error["code"] == "budget_exhausted"
    assert "$1" in error["message"]
    # Retry-After points at the next UTC midnight, when the daily budget starts afresh.
    assert 1 <= int(headers["retry-after"]) <= 86400
    # Another owner is not affected.
    assert submit(budgeted, FREE)[0] == 202
    # A retry through the API starts a new attempt: refused the same way.
    ended = budgeted.ended(CAPPED)
    retry = budgeted.client.post(f"/jobs/{ended.id}/retry", headers=budgeted.headers(CAPPED))
    assert (retry.status_code, retry.json()["error"]["code"]) == (429, "budget_exhausted")


def test_spend_before_the_period_does_not_count(budgeted: InProcess) -> None:
    charge(budgeted, MONTHLY, 100.0, at=period_start("month") - timedelta(seconds=1))
    assert submit(budgeted, MONTHLY)[0] == 202


def test_usage_sums_the_owners_calls_by_type_and_model(budgeted: InProcess) -> None:
    owner = TALLIED
    charge(budgeted, owner, 0.25, type="chat", model="m-a", prompt_tokens=5, completion_tokens=7)
    charge(budgeted, owner, 0.5, type="chat", model="m-a", prompt_tokens=1, completion_tokens=2)
    charge(budgeted, owner, 0.125, type="generate_lore", model="m-b")
    charge(budgeted, owner, 9.0, type="chat", model="m-a", at=utcnow() - timedelta(days=40))
    charge(budgeted, CAPPED, 3.0, type="chat", model="m-a")  # someone else's

    response = budgeted.client.get("/usage?period=day", headers=budgeted.headers(owner))

    assert response.status_code == 200, response.text
    usage = response.json()
    assert (usage["owner"], usage["period"], usage["budget"]) == (owner, "day", None)
    assert usage["since"] == period_start("day").isoformat().replace("+00:00", "Z")
    assert (usage["llm_calls"], usage["cost"]) == (3, 0.875)
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == (16, 29)
    assert usage["by_type_and_model"] == [
        {"type": "chat", "model": "m-a", "llm_calls": 2, "prompt_tokens": 6,
         "completion_tokens": 9, "cost": 0.75},
        {"type": "generate_lore", "model": "m-b", "llm_calls": 1, "prompt_tokens": 10,
         "completion_tokens": 20, "cost": 0.125},
    ]  # fmt: skip
    month = budgeted.client.get("/usage?period=month", headers=budgeted.headers(owner)).json()
    assert month["cost"] >= usage["cost"]


def test_usage_shows_the_budget_and_what_is_left_of_it(budgeted: InProcess) -> None:
    charge(budgeted, MONTHLY, 1.5)
    usage = budgeted.client.get("/usage", headers=budgeted.headers(MONTHLY)).json()
    assert usage["period"] == "month"  # the budget's own period by default
    budget = usage["budget"]
    assert (budget["amount"], budget["period"]) == (5, "month")
    assert budget["spent"] == usage["cost"] >= 1.5
    assert budget["remaining"] == round(5 - budget["spent"], 6)


def test_usage_refuses_an_unknown_period(budgeted: InProcess) -> None:
    response = budgeted.client.get("/usage?period=week", headers=budgeted.headers(FREE))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_query"


def test_usage_needs_a_key_and_is_in_the_openapi_document(budgeted: InProcess) -> None:
    assert budgeted.client.get("/usage").status_code == 401
    document = budgeted.client.get("/openapi.json", headers=budgeted.headers(FREE)).json()
    operation = document["paths"]["/usage"]["get"]
    assert {"200", "401", "422"} <= set(operation["responses"])
    submit_429 = document["paths"]["/jobs"]["post"]["responses"]["429"]
    assert "budget_exhausted" in submit_429["description"]
