"""What an OpenAI-compatible server's failure means for the job: the one classification.

    429                      transient, after the server's Retry-After when it sends one
    408, 409, 5xx            transient
    other 4xx (400, 401, …)  permanent: a new attempt would get the same answer
    connection, timeout,     transient
    a stream cut short

Messages say what the server answered (status and its own error message), never the
API key: servers echo keys back (OpenAI's 401 shows a masked one), so they are removed.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping

import openai

from actors.pipeline.errors import LLMError

TRANSIENT_STATUSES = {408, 409, 429}
MAX_SERVER_MESSAGE = 300
# Anything shaped like an API key (sk-…, masked or not), and bearer tokens.
_KEYISH = re.compile(r"\b(sk-[A-Za-z0-9_\-*.]{3,}|Bearer\s+\S+)")


def classify(error: openai.APIError, api_key: str | None) -> LLMError:
    """The `LLMError` for a failed call."""
    if isinstance(error, openai.APIStatusError):
        return _status_error(error, api_key)
    if isinstance(error, openai.APITimeoutError):
        return LLMError("the model server did not answer in time (read timeout)", transient=True)
    if isinstance(error, openai.APIConnectionError):
        cause = error.__cause__
        detail = f" ({redact(str(cause), api_key)})" if cause and str(cause) else ""
        return LLMError(f"lost the connection to the model server{detail}", transient=True)
    # An error event inside a stream that had started: the generation broke off.
    message = redact(error.message, api_key)
    return LLMError(f"the model server reported an error mid-stream: {message}", transient=True)


def _status_error(error: openai.APIStatusError, api_key: str | None) -> LLMError:
    status = error.status_code
    said = redact(_server_message(error), api_key)
    message = f"the model server answered {status}: {said}"
    if status in TRANSIENT_STATUSES or status >= 500:
        retry_after = retry_after_seconds(error.response.headers)
        return LLMError(message, transient=True, retry_after=retry_after)
    return LLMError(message)


def _server_message(error: openai.APIStatusError) -> str:
    body = error.body
    text = body.get("message") if isinstance(body, dict) else body
    if not text:
        text = error.response.reason_phrase or "no message"
    return str(text)[:MAX_SERVER_MESSAGE]


def redact(text: str, api_key: str | None) -> str:
    if api_key:
        text = text.replace(api_key, "[redacted]")
    return _KEYISH.sub("[redacted]", text)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The server's wait hint: `retry-after-ms`, else `Retry-After` (seconds or HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
