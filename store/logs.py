"""Log lines: one per event, `key=value` text by default, JSON with JOBCAST_LOG_FORMAT=json.

`configure()` runs once at process start: the web app calls it when it is built (after
uvicorn set up its loggers), each `dramatiq actors` worker process after it boots
(actors/worker/logs.py, after the dramatiq CLI's own `basicConfig`). Every logger then
writes through one handler on stderr with one format, uvicorn's and dramatiq's included.

An event's structured fields travel as `extra={"fields": {...}}`. Configured secrets (the
model key, the API keys of JOBCAST_API_KEYS) are masked in every line, whatever logged it.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from store.settings import Settings

FIELDS = "fields"  # the LogRecord attribute that holds an event's structured fields
MASK = "[redacted]"
# Per-request chatter from the model client (and the URLs it calls): warnings only.
QUIET = ("openai", "httpx", "httpx2", "httpcore", "httpcore2")
# pika logs one failed connect as half a dozen ERROR lines and a traceback; Dramatiq (a
# consumer's) and jobcast (a send's, a start-up check's) report the same failure in one.
SILENCED = ("pika",)
# Loggers that uvicorn gives handlers of its own; they write through ours instead.
UVICORN = ("uvicorn", "uvicorn.access")


class _Lines(logging.Formatter):
    """What both formats share: UTC timestamps, fields, masked secrets."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        line = self.render(record, dict(getattr(record, FIELDS, None) or {}))
        for secret in self.secrets:
            line = line.replace(secret, MASK)
        return line

    def render(self, record: logging.LogRecord, fields: dict[str, Any]) -> str:
        raise NotImplementedError

    def timestamp(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def traceback(self, record: logging.LogRecord) -> str | None:
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        return record.exc_text or None


class TextFormatter(_Lines):
    """`2026-05-01T12:00:00.000Z INFO jobcast.jobs: job claimed job_id=… attempt=1`."""

    def render(self, record: logging.LogRecord, fields: dict[str, Any]) -> str:
        head = f"{self.timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        pairs = [f"{name}={_text_value(value)}" for name, value in fields.items()]
        line = " ".join([head, *pairs])
        trace = self.traceback(record)
        return f"{line}\n{trace}" if trace else line


class JsonFormatter(_Lines):
    """One JSON object per line: ts, level, logger, message, then the event's fields."""

    def render(self, record: logging.LogRecord, fields: dict[str, Any]) -> str:
        line: dict[str, Any] = {
            "ts": self.timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **fields,
            "pid": record.process,
        }
        trace = self.traceback(record)
        if trace:
            line["exc"] = trace
        return json.dumps(line, default=str, ensure_ascii=False)


def _text_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    needs_quotes = not text or any(c.isspace() or c in '"=' for c in text)
    return json.dumps(text, ensure_ascii=False) if needs_quotes else text


def secrets_of(settings: Settings) -> list[str]:
    """The configured secrets no log line may show."""
    keys = [key for _, key in settings.api_key_pairs]
    return [secret for secret in (settings.openai_api_key, *keys) if secret]


def formatter_for(settings: Settings) -> logging.Formatter:
    kind = JsonFormatter if settings.log_format == "json" else TextFormatter
    return kind(secrets_of(settings))


def configure(settings: Settings, stream: TextIO | None = None) -> None:
    """Send every log line through one stderr handler in the configured format and level.

    A plain StreamHandler already on the root logger (the dramatiq CLI's, which writes to
    the pipe its parent reads) is kept and given our format; otherwise one is added.
    Calling this again only re-applies the settings.
    """
    root = logging.getLogger()
    handlers = [h for h in root.handlers if type(h) is logging.StreamHandler]
    if not handlers:
        handlers = [logging.StreamHandler(stream or sys.stderr)]
        root.addHandler(handlers[0])
    level = logging.getLevelName(settings.log_level)
    for handler in handlers:
        handler.setFormatter(formatter_for(settings))
        handler.setLevel(level)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    for name in SILENCED:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    for name in UVICORN:
        own = logging.getLogger(name)
        if own.handlers:  # uvicorn set it up (and did not switch it off): use ours
            own.handlers.clear()
            own.propagate = True
