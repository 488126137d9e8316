"""Cancel, retry and delete from the job view."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.dashboard import Dashboard
from tests.client import get_job
from tests.stack import Stack


def test_cancel_retry_and_delete_from_the_job_view(page: Page, slow_stack: Stack) -> None:
    dashboard = Dashboard(page, slow_stack)
    dashboard.open()
    job_id = dashboard.submit("Describe the lighthouse stairs")
    dashboard.wait_for_output()

    with page.expect_response(lambda r: r.url.endswith(f"/jobs/{job_id}/cancel")) as answer:
        dashboard.view.locator("button[data-action=cancel]").click()
    assert answer.value.status == 202
    expect(dashboard.badge).to_have_text("cancelled", timeout=10_000)
    expect(dashboard.row_badge(job_id)).to_have_text("cancelled")
    expect(page.locator("#error")).to_contain_text("cancelled")
    assert get_job(slow_stack, job_id)["status"] == "cancelled"

    # Retry starts a new attempt that streams again; cancel it, then delete the job.
    dashboard.view.locator("button[data-action=retry]").click()
    expect(dashboard.view.locator(".attempts")).to_have_text("attempt 2", timeout=10_000)
    dashboard.wait_for_output()
    expect(dashboard.badge).to_have_text("running")
    dashboard.view.locator("button[data-action=cancel]").click()
    expect(dashboard.badge).to_have_text("cancelled", timeout=10_000)
    dashboard.view.locator("button[data-action=delete]").click()
    expect(page.locator(f"#jobs li[data-id='{job_id}']")).to_have_count(0)
    expect(dashboard.view.locator(".placeholder")).to_be_visible()
