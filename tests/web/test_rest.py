"""The REST routes, in-process (tests/inprocess.py): answers and errors in the contract's shape."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from actors import JOB_TYPES
from tests.inprocess import InProcess, Response, settings_of
from web.app import create_app


@pytest.fixture
def api(web_app: InProcess) -> TestClient:
    return web_app.client


def assert_error(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


def jobs_count(api: TestClient) -> int:
    return len(api.get("/jobs", params={"limit": 200}).json()["jobs"])


def test_submit_answers_202_with_location_and_the_pending_job(api: TestClient) -> None:
    response = api.post("/jobs", json={"type": "chat", "params": {"prompt": "hi"}, "priority": 3})
    assert response.status_code == 202
    job = response.json()
    assert response.headers["location"] == f"/jobs/{job['id']}"
    assert job["status"] in {"pending", "running"}
    assert (job["type"], job["params"], job["priority"]) == ("chat", {"prompt": "hi"}, 3)
    assert api.get(response.headers["location"]).json()["id"] == job["id"]


def test_malformed_json_is_a_400(api: TestClient) -> None:
    before = jobs_count(api)
    response = api.post(
        "/jobs", content=b'{"type": "chat", ', headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "malformed_json")
    assert jobs_count(api) == before


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe not text", b"", b'{"type": "chat"} trailing'],
    ids=["deeply-nested", "not-utf8", "empty", "trailing-garbage"],
)
def test_other_undecodable_bodies_are_a_400(api: TestClient, body: bytes) -> None:
    assert_error(api.post("/jobs", content=body), 400, "malformed_json")


def test_an_unknown_type_is_a_422(api: TestClient) -> None:
    error = assert_error(
        api.post("/jobs", json={"type": "poem", "params": {}}), 422, "unknown_type"
    )
    assert "chat" in error["message"]
    assert error["details"][0]["field"] == "type"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "params.prompt"),
        ({"prompt": 42}, "params.prompt"),
        ({"prompt": ""}, "params.prompt"),
        ({"prompt": "hi", "temperature": 2}, "params.temperature"),
        ({"prompt": "hi", "system": ["not", "text"]}, "params.system"),
    ],
)
def test_params_failing_the_schema_are_a_422_naming_the_field(
    api: TestClient, params: dict[str, Any], field: str
) -> None:
    error = assert_error(
        api.post("/jobs", json={"type": "chat", "params": params}), 422, "invalid_params"
    )
    assert [d["field"] for d in error["details"]] == [field]
    assert field in error["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "chat", "params": {"prompt": "x"}, "priority": "high"}, "priority"),
        ({"type": "chat", "params": {"prompt": "x"}, "time_limit": 0}, "time_limit"),
        ({"type": "chat", "params": {"prompt": "x"}, "time_limit": 10**6}, "time_limit"),
        ({"type": "chat", "params": "prompt"}, "params"),
        ({"type": "chat", "params": {"prompt": "x"}, "colour": "red"}, "colour"),
    ],
)
def test_other_invalid_fields_are_a_422(api: TestClient, body: dict[str, Any], field: str) -> None:
    error = assert_error(api.post("/jobs", json=body), 422, "invalid_request")
    assert error["details"][0]["field"] == field


def test_a_time_limit_above_the_types_own_is_refused(api: TestClient) -> None:
    longest = JOB_TYPES["chat"].time_limit
    body = {"type": "chat", "params": {"prompt": "x"}, "time_limit": longest + 1}
    error = assert_error(api.post("/jobs", json=body), 422, "invalid_request")
    assert error["details"][0]["field"] == "time_limit"
    assert str(longest) in error["message"]


@pytest.mark.parametrize(
    ("job_type", "params", "field"),
    [
        ("generate_lore", {"kind": "characters", "theme": "x", "count": 11}, "params.count"),
        ("generate_lore", {"kind": "dragons", "theme": "x"}, "params.kind"),
        ("generate_personas", {"count": 501}, "params.count"),
        ("generate_workflow", {"requirements": ""}, "params.requirements"),
        ("generate_backlog", {"description": "x", "stories": 0}, "params.stories"),
        ("create_canvas", {"request": "x", "colour": "red"}, "params.colour"),
    ],
)
def test_params_outside_each_types_schema_are_refused(
    api: TestClient, job_type: str, params: dict[str, Any], field: str
) -> None:
    response = api.post("/jobs", json={"type": job_type, "params": params})
    error = assert_error(response, 422, "invalid_params")
    assert field in [detail["field"] for detail in error["details"]]


def test_a_body_that_is_not_an_object_is_a_422(api: TestClient) -> None:
    assert_error(api.post("/jobs", json=["chat"]), 422, "invalid_request")


def test_a_body_over_256_kib_is_a_413(api: TestClient) -> None:
    before = jobs_count(api)
    big = {"type": "chat", "params": {"prompt": "x" * (256 * 1024)}}
    assert_error(api.post("/jobs", json=big), 413, "too_large")

    def chunks() -> Any:  # no Content-Length: the limit holds while reading too
        yield b'{"type": "chat", "params": {"prompt": "'
        for _ in range(300):
            yield b"y" * 1024
        yield b'"}}'

    assert_error(api.post("/jobs", content=chunks()), 413, "too_large")
    assert jobs_count(api) == before


def test_an_unknown_job_is_a_404(api: TestClient) -> None:
    assert_error(api.get("/jobs/does-not-exist"), 404, "not_found")
    assert_error(api.get("/no-such-route"), 404, "not_found")


def test_a_wrong_method_is_a_405_in_the_error_shape(api: TestClient) -> None:
    assert_error(api.put("/jobs"), 405, "method_not_allowed")


def test_listing_is_newest_first_with_filters_and_a_cursor(
    web_app: InProcess, api: TestClient
) -> None:
    ids = [web_app.submit(prompt=f"listing {n}") for n in range(3)]
    first = api.get("/jobs", params={"limit": 2, "type": "chat"}).json()
    assert [job["id"] for job in first["jobs"]] == ids[::-1][:2]
    second = api.get("/jobs", params={"limit": 2, "cursor": first["next"]}).json()
    assert second["jobs"][0]["id"] == ids[0]
    for job in api.get("/jobs", params={"status": "completed"}).json()["jobs"]:
        assert job["status"] == "completed"


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "lots"},
        {"limit": "²"},
        {"status": "done"},
        {"cursor": "nonsense!"},
        {"cursor": "bm90IGEgY3Vyc29y"},
    ],
)
def test_bad_listing_queries_are_a_422(api: TestClient, query: dict[str, str]) -> None:
    assert_error(api.get("/jobs", params=query), 422, "invalid_query")


def test_job_types_carry_the_json_schema_of_their_params(api: TestClient) -> None:
    types = {t["type"]: t for t in api.get("/job-types").json()}
    schema = types["chat"]["params_schema"]
    assert schema["required"] == ["prompt"]
    assert set(schema["properties"]) == {"prompt", "system", "context"}
    assert types["chat"]["title"] and types["chat"]["description"]


def test_every_job_type_is_listed_with_its_params_schema(api: TestClient) -> None:
    types = {t["type"]: t for t in api.get("/job-types").json()}
    assert set(types) >= {
        "chat", "generate_lore", "generate_workflow", "generate_personas",
        "generate_backlog", "create_canvas", "generate_characters", "generate_factions",
        "generate_settings", "generate_events", "generate_relics", "create_world",
    }  # fmt: skip
    assert "kind" not in types["create_world"]["params_schema"]["properties"]
    assert types["generate_personas"]["params_schema"]["properties"]["count"]["maximum"] == 500


def test_openapi_describes_every_http_route(api: TestClient) -> None:
    from openapi_spec_validator import validate

    document = api.get("/openapi.json").json()
    validate(document)
    assert {"/jobs", "/jobs/batch", "/jobs/{job_id}", "/job-types", "/health"} <= set(
        document["paths"]
    )
    assert set(document["paths"]["/jobs"]) == {"get", "post", "delete"}


def test_health_is_a_503_while_no_worker_is_seen(
    sqlite_url: str, redis_url: str, namespace: str
) -> None:
    # A namespace of its own: no worker heart-beats there (tests/e2e has the 200).
    settings = settings_of(sqlite_url, redis_url, f"{namespace}:no-workers")
    with TestClient(create_app(settings)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body == {"database": "ok", "redis": "ok", "workers": 0, "status": "unavailable"}
