"""`jobcast watch`: follow a job live and end with its result or error.

Exit status: 0 when the job completed, 1 when it failed or was cancelled.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TextIO

from client.api import Client
from client.errors import ApiError
from client.live import LiveJob
from client.screen import PlainScreen, TtyScreen

INTERRUPTED = 130


def watch(client: Client, job_id: str, out: TextIO, err: TextIO) -> int:
    screen = TtyScreen(out) if out.isatty() else PlainScreen(out, err)
    live = LiveJob()
    try:
        for message in client.events(job_id):
            live.apply(message)
            screen.update(live.job)
    except KeyboardInterrupt:
        screen.note(f"stopped watching; the job goes on (jobcast watch {job_id})")
        return INTERRUPTED
    try:
        job = client.get(job_id)  # the final view has usage and timings too
    except ApiError:
        job = live.job
    screen.end_text()
    return finish(job, live.output, out, screen)


def finish(job: dict[str, Any], shown: str, out: TextIO, screen: PlainScreen) -> int:
    status = job["status"]
    if status == "completed":
        result = job.get("result")
        if result is not None and not _is_just(result, shown):
            out.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
            out.flush()
        screen.note(f"completed {summary(job)}".rstrip())
        return 0
    error = job.get("error") or {}
    reason = f": {error.get('code', 'error')}: {error.get('message', '')}" if error else ""
    screen.note(f"{status}{reason} {summary(job)}".rstrip())
    return 1


def _is_just(result: dict[str, Any], shown: str) -> bool:
    """A result that only repeats the streamed text (chat's `{"text": …}`)."""
    return bool(shown) and list(result.values()) == [shown]


def summary(job: dict[str, Any]) -> str:
    """`(2.2 s, 42 tokens, 1 model call, provider simulated)`, or "" when nothing is known."""
    parts = []
    seconds = _seconds(job.get("started_at"), job.get("finished_at"))
    if seconds is not None:
        parts.append(f"{seconds:.1f} s")
    usage = job.get("usage") or {}
    if usage:
        tokens = (usage.get("prompt_tokens") or 0) + (usage.get("completion_tokens") or 0)
        calls = usage.get("llm_calls") or 0
        parts.append(f"{tokens} tokens, {calls} model call{'s' if calls != 1 else ''}")
        parts.append(f"provider {usage.get('provider', '?')}")
    return f"({', '.join(parts)})" if parts else ""


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    delta = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return delta.total_seconds()
