"""`GET /` and its static files: served by the app, self-contained, locked down."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from tests.inprocess import InProcess
from tests.stack import ROOT

STATIC = ROOT / "web" / "static"


@pytest.fixture
def api(web_app: InProcess) -> TestClient:
    return web_app.client


def test_the_dashboard_is_served_at_the_root(api: TestClient) -> None:
    page = api.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/static/app.js">' in page.text
    script = api.get("/static/jobcast.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "GET /" in {f"GET {path}" for path in api.get("/openapi.json").json()["paths"]}


def test_a_missing_static_file_is_a_404_in_the_error_shape(api: TestClient) -> None:
    response = api.get("/static/nope.js")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_page_loads_nothing_from_elsewhere() -> None:
    """Offline: no CDN, no external fonts; modules import only each other."""
    for path in STATIC.iterdir():
        # The SVG namespace is a name, not an address: nothing is fetched from it.
        text = path.read_text().replace("http://www.w3.org/2000/svg", "")
        if path.suffix in (".html", ".css", ".js"):
            assert not re.search(r"https?://|@import|url\(", text), path.name
        if path.suffix == ".js":
            for module in re.findall(r'^import .* from "([^"]+)";', text, flags=re.M):
                assert module.startswith("./") and (STATIC / module[2:]).exists(), (path, module)


def test_model_output_is_never_parsed_as_html() -> None:
    """Text goes in with textContent or text nodes; innerHTML is not used anywhere."""
    for path in STATIC.glob("*.js"):
        unsafe = r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\("
        assert not re.search(unsafe, path.read_text()), path.name
