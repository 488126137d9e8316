"""Why an attempt of a job failed: one tree, each class carrying the contract's code.

JobError                  error.code        retried?     (a branch of store/errors.py's tree)
 ├── LLMError             "llm_error"       when `transient` (429, 5xx, timeouts, cut streams)
 │    └── ProviderBusy    "llm_error"       waited out in the call (429: the model's capacity)
 ├── InvalidOutput        "invalid_output"  no (the model's answer failed its schema twice)
 └── BudgetExceeded       "budget_exhausted" no (the owner's spend reached its budget)

`transient` says whether a new attempt could succeed; `retry_after` is the server's own
hint (seconds) when it gave one. Anything else a pipeline raises is a bug: `internal`.
"""

from __future__ import annotations

from typing import Any

from store.errors import JobcastError


class JobError(JobcastError):
    """A failure a pipeline reports on purpose, with the code clients see."""

    code = "internal"

    def __init__(
        self, message: str, *, transient: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.retry_after = retry_after

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


class LLMError(JobError):
    """The model server refused or failed the request."""

    code = "llm_error"


class ProviderBusy(LLMError):
    """The model server answered 429 for its capacity: the call waits and is sent again
    (actors/pipeline/capacity.py) rather than costing the job an attempt."""


class InvalidOutput(JobError):
    """The model's structured output failed validation, also after one repair attempt."""

    code = "invalid_output"


class BudgetExceeded(JobError):
    """The owner's spend reached its budget for the period while this job ran."""

    code = "budget_exhausted"
