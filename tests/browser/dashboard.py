"""The dashboard as the tests drive it: open it, submit from the form, read what it shows."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from playwright.sync_api import Locator, Page, Request, Response, expect

from tests.stack import Stack

# Installed before the page's own scripts: notes every distinct value the page shows, so a
# test can tell that the output grew bit by bit or that the indicator said "reconnecting".
RECORDER = """
window.__seen = { output: [], progress: [], connection: [] };
new MutationObserver(() => {
  const note = (list, value) => {
    if (value != null && list[list.length - 1] !== value) list.push(value);
  };
  note(__seen.output, document.querySelector("#output")?.textContent.length);
  const bar = document.querySelector("#job-view .view-progress .progress");
  note(__seen.progress, bar?.getAttribute("aria-valuenow"));
  note(__seen.connection, document.querySelector("#connection")?.dataset.state);
}).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
"""


def _is_submission(response: Response) -> bool:
    return response.request.method == "POST" and urlparse(response.url).path == "/jobs"


class Dashboard:
    def __init__(self, page: Page, stack: Stack) -> None:
        self.page = page
        self.stack = stack
        self.requests: list[Request] = []
        page.on("request", lambda request: self.requests.append(request))
        page.add_init_script(RECORDER)

    def open(self, path: str = "/") -> None:
        self.page.goto(self.stack.base_url + path)
        self.page.select_option("#job-type", "chat")
        self.page.locator("#field-params-prompt").wait_for()

    def submit(self, prompt: str) -> str:
        """Submit a chat job from the form; returns its id once the page shows it."""
        self.page.fill("#field-params-prompt", prompt)
        with self.page.expect_response(_is_submission) as answer:
            self.page.click("#job-form button[type=submit]")
        assert answer.value.status == 202, answer.value.text()
        job_id: str = answer.value.json()["id"]
        expect(self.view).to_have_attribute("data-id", job_id)
        return job_id

    @property
    def view(self) -> Locator:
        return self.page.locator("#job-view")

    @property
    def badge(self) -> Locator:
        return self.view.locator(".view-title .badge")

    @property
    def output(self) -> Locator:
        return self.page.locator("#output")

    def row_badge(self, job_id: str) -> Locator:
        return self.page.locator(f"#jobs li[data-id='{job_id}'] .badge")

    def wait_for_output(self, at_least: int = 1) -> None:
        """Until some of the model's text is on the page (the job is running)."""
        # Locator waits, not wait_for_function: the page's CSP forbids eval, rightly.
        expect(self.output).to_have_text(re.compile(rf"[\s\S]{{{at_least},}}"))

    def seen(self) -> dict[str, list[Any]]:
        seen: dict[str, list[Any]] = self.page.evaluate("window.__seen")
        return seen

    def polls(self, job_id: str) -> list[Request]:
        """GET /jobs/{id}: the polling fallback's requests."""
        path = f"/jobs/{job_id}"
        return [r for r in self.requests if r.method == "GET" and urlparse(r.url).path == path]
