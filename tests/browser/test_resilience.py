"""The dashboard keeps a job live through a web server restart and without WebSockets."""

from __future__ import annotations

import re

from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.dashboard import Dashboard
from tests.client import get_job
from tests.stack import Stack


def test_the_page_recovers_from_a_web_server_restart_mid_job(page: Page, slow_stack: Stack) -> None:
    dashboard = Dashboard(page, slow_stack)
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    dashboard.open()
    job_id = dashboard.submit("Describe a storm crossing the northern sea")
    dashboard.wait_for_output()

    slow_stack.restart_web()

    expect(dashboard.badge).to_have_text("completed", timeout=30_000)
    job = get_job(slow_stack, job_id)
    # Resumed, not restarted: every piece of text exactly once.
    assert dashboard.output.text_content() == job["output"]
    assert "reconnecting" in dashboard.seen()["connection"]
    assert any(f"/jobs/{job_id}/events?after=" in url for url in sockets), sockets
    expect(page.locator("#usage .provider")).to_have_text("simulated")


def test_with_websockets_blocked_the_page_polls_to_completion(
    page: Page, slow_stack: Stack
) -> None:
    def refuse(ws: WebSocketRoute) -> None:
        ws.close()  # the socket never reaches the server

    page.route_web_socket(re.compile(r".*/events(\?.*)?$"), refuse)
    dashboard = Dashboard(page, slow_stack)
    dashboard.open()
    job_id = dashboard.submit("Describe the keeper's ledger")

    expect(page.locator("#connection")).to_have_attribute("data-state", "polling")
    expect(dashboard.badge).to_have_text("completed", timeout=30_000)
    job = get_job(slow_stack, job_id)
    assert dashboard.output.text_content() == job["output"]
    assert len(dashboard.polls(job_id)) >= 2
    expect(page.locator("#usage .provider")).to_have_text("simulated")
