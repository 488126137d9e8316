"""Cancel, retry and delete from the job view."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.dashboard import Dashboard
from tests.stack import Stack


@pytest.mark.xfail(strict=True, reason="cancel route lands with issue #4")
def test_cancel_a_running_job_from_its_view(page: Page, slow_stack: Stack) -> None:
    dashboard = Dashboard(page, slow_stack)
    dashboard.open()
    job_id = dashboard.submit("Describe the lighthouse stairs")
    dashboard.wait_for_output()
    with page.expect_response(lambda r: r.url.endswith(f"/jobs/{job_id}/cancel")) as answer:
        dashboard.view.locator("button[data-action=cancel]").click()
    assert answer.value.status == 202
    expect(dashboard.badge).to_have_text("cancelled", timeout=10_000)
    expect(dashboard.row_badge(job_id)).to_have_text("cancelled")
    expect(dashboard.view.locator("button[data-action=retry]")).to_be_visible()
