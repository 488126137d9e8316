"""Model output is text, never markup: HTML in what a model writes shows as characters."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.dashboard import Dashboard
from tests.client import get_job, submit
from tests.stack import Stack

# The simulated model starts its reply by quoting the prompt, as a model might echo markup.
MARKUP = "<img src=x onerror=alert(1)><b id=injected>bold</b>"


def test_html_in_model_output_is_rendered_as_text(page: Page, stack: Stack) -> None:
    job_id = submit(stack, MARKUP)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    dashboard = Dashboard(page, stack)
    dashboard.open(f"/#/jobs/{job_id}")
    expect(dashboard.badge).to_have_text("completed")
    output = get_job(stack, job_id)["output"]
    assert MARKUP in output
    expect(dashboard.output).to_have_text(output)  # every character, as characters
    expect(page.locator("#result")).to_contain_text(MARKUP)
    # No element was made from it anywhere on the page, and its script never ran.
    expect(page.locator("img[src='x']")).to_have_count(0)
    expect(page.locator("#injected")).to_have_count(0)
    assert dialogs == []
