"""A job's live view on the client side: the snapshot with every later event applied.

Mirrors what the server's live view does, so `job` equals what `GET /jobs/{id}` would
say at the same seq (except `usage` and `finished_at`, which only the final fetch has).
"""

from __future__ import annotations

from typing import Any

from client.events import TERMINAL

ENVELOPE = frozenset({"job_id", "seq", "type", "ts", "status", "attempt"})


class LiveJob:
    def __init__(self) -> None:
        self.job: dict[str, Any] = {}
        self.output_stage: str | None = None

    @property
    def output(self) -> str:
        return str(self.job.get("output") or "")

    def apply(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "snapshot":
            self.job = dict(message["job"])
            self.output_stage = self.job.get("stage")
            return
        self.job["seq"] = message["seq"]
        if kind == "progress":
            self.job.update(
                progress=message["progress"],
                message=message.get("message") or self.job.get("message"),
                stage=message.get("stage") or self.job.get("stage"),
            )
        elif kind == "output":
            same = message["stage"] == self.output_stage and self.job.get("output") is not None
            self.job["output"] = (self.output + message["delta"]) if same else message["delta"]
            self.output_stage = message["stage"]
        elif kind == "status":
            self._status(message)

    def _status(self, message: dict[str, Any]) -> None:
        status = message["status"]
        if status in ("running", "pending"):
            # A new attempt starts from nothing, as the server's view does.
            self.job.update(progress=0, message=None, stage=None, output=None)
            self.job.update(result=None, error=None, retry_at=None)
            self.output_stage = None
        self.job["status"] = status
        self.job["attempts"] = message.get("attempt", self.job.get("attempts"))
        # Whatever else the event carries (result, error, retry_at…) is the job's new value.
        self.job.update({k: v for k, v in message.items() if k not in ENVELOPE})
        if status == "completed":
            self.job["progress"] = 100

    @property
    def finished(self) -> bool:
        return self.job.get("status") in TERMINAL
