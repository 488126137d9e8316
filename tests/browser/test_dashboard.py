"""The dashboard in a real browser against a real stack: submit, watch it stream, result."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from playwright.sync_api import Page, expect

from tests.browser.dashboard import Dashboard
from tests.client import get_job, submit
from tests.stack import ROOT, Stack

SCREENSHOT = ROOT / "docs" / "dashboard.png"


def test_a_job_submitted_from_the_form_streams_to_a_rendered_result(
    page: Page, stack: Stack
) -> None:
    dashboard = Dashboard(page, stack)
    dashboard.open()
    job_id = dashboard.submit("Describe the lantern room of a lighthouse")

    expect(dashboard.badge).to_have_text("completed")
    expect(dashboard.view.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(dashboard.view.locator(".progress-label")).to_contain_text("100 %")
    job = get_job(stack, job_id)
    assert dashboard.output.text_content() == job["output"]
    seen = dashboard.seen()
    # The text appeared in pieces as the model wrote it, and the bar (as assistive
    # technology reads it) only moved forward.
    assert any(0 < length < len(job["output"]) for length in seen["output"]), seen["output"]
    progress = [int(value) for value in seen["progress"]]
    assert progress == sorted(progress) and progress[-1] == 100 and len(progress) >= 3, progress
    # Result and usage, with the simulated provider named.
    expect(page.locator("#result")).to_contain_text("Result")
    expect(page.locator("#usage .provider")).to_have_text("simulated")
    expect(page.locator("#usage")).to_contain_text("completion tokens")
    # Its cost (the session stack prices nothing), and the owner's spend today beside it.
    expect(page.locator("#usage .cost")).to_have_text("$0.00")
    expect(page.locator("#spend")).to_have_text(re.compile(r"^\$\d+\.\d\d today$"))
    expect(dashboard.row_badge(job_id)).to_have_text("completed")
    # The status filter asks the server for that status only.
    page.select_option("#status-filter", "failed")
    expect(dashboard.row_badge(job_id)).to_have_count(0)
    page.select_option("#status-filter", "completed")
    expect(dashboard.row_badge(job_id)).to_have_text("completed")


def test_progress_bars_are_progressbars_with_their_value_and_a_name(
    page: Page, slow_stack: Stack
) -> None:
    dashboard = Dashboard(page, slow_stack)
    dashboard.open()
    job_id = dashboard.submit("Tell me about buoys")
    dashboard.wait_for_output()
    row = page.locator(f"#jobs li[data-id='{job_id}']").get_by_role("progressbar")
    view = dashboard.view.get_by_role("progressbar")
    for bar, name in ((row, f"Progress of Chat {job_id[:8]}"), (view, "Progress of Chat")):
        expect(bar).to_have_accessible_name(name)
        expect(bar).to_have_attribute("aria-valuemin", "0")
        expect(bar).to_have_attribute("aria-valuemax", "100")
        expect(bar).to_have_attribute("aria-valuenow", re.compile(r"^\d{1,2}$"))  # running
    expect(dashboard.badge).to_have_text("completed", timeout=30_000)
    for bar in (row, view):
        expect(bar).to_have_attribute("aria-valuenow", "100")
        expect(bar).to_have_attribute("aria-valuetext", "100 %, completed")


def test_the_servers_validation_errors_show_next_to_the_field(page: Page, stack: Stack) -> None:
    dashboard = Dashboard(page, stack)
    dashboard.open()
    page.click("#job-form button[type=submit]")  # the prompt is empty
    error = page.locator("[data-field='params.prompt'] .field-error")
    expect(error).to_contain_text("at least 1 character")
    assert dashboard.page.evaluate("location.hash") == ""  # nothing was submitted


def test_no_polling_while_the_websocket_works(page: Page, slow_stack: Stack) -> None:
    dashboard = Dashboard(page, slow_stack)
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    dashboard.open()
    job_id = dashboard.submit("Tell me about tides")  # runs for several polling intervals
    dashboard.wait_for_output()
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")
    expect(dashboard.badge).to_have_text("completed", timeout=30_000)
    expect(page.locator("#usage .provider")).to_have_text("simulated")

    assert dashboard.polls(job_id) == []
    assert any(url.endswith(f"/jobs/{job_id}/events") for url in sockets), sockets


def test_screenshot_with_a_running_and_a_completed_job(page: Page, slow_stack: Stack) -> None:
    """Writes docs/dashboard.png, the picture in the README."""
    done = submit(slow_stack, "Describe a harbour at dawn")
    dashboard = Dashboard(page, slow_stack)
    dashboard.open(f"/#/jobs/{done}")
    expect(dashboard.badge).to_have_text("completed", timeout=30_000)
    running = dashboard.submit("Write about a lighthouse keeper's night")
    dashboard.wait_for_output(at_least=120)
    expect(dashboard.row_badge(done)).to_have_text("completed")
    expect(dashboard.row_badge(running)).to_have_text("running")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOT)


def test_an_api_key_is_kept_and_sent_as_a_bearer_token(page: Page, stack: Stack) -> None:
    dashboard = Dashboard(page, stack)
    dashboard.open()
    page.fill("#api-key", "key-1")
    page.press("#api-key", "Enter")  # a change event; the page does not reload
    dashboard.open()  # a new visit remembers the key (localStorage)
    expect(page.locator("#api-key")).to_have_value("key-1")
    dashboard.requests.clear()
    job_id = dashboard.submit("Describe a jetty")
    expect(dashboard.badge).to_have_text("completed")
    api_calls = [r for r in dashboard.requests if urlparse(r.url).path.startswith("/jobs")]
    assert api_calls and all(r.headers.get("authorization") == "Bearer key-1" for r in api_calls)
    # The WebSocket offered the key as a subprotocol and still carried the job live.
    assert dashboard.polls(job_id) == []
