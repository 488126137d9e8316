"""What an OpenAI-compatible server's failure means for the job: the one classification.

    the body calls the request  permanent, whatever the status: llama-cpp-python's
    invalid                     server answers 500 to a request that fails its schema
    429                         transient, after the server's Retry-After when it sends one;
                                `ProviderBusy` (waited out, not retried as an attempt) unless
                                the account is out of quota
    408, 409, 5xx               transient
    other 4xx (400, 401, …)     permanent: a new attempt would get the same answer
    connection, timeout,        transient
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

from actors.pipeline.errors import LLMError, ProviderBusy

TRANSIENT_STATUSES = {408, 409, 429}
MAX_SERVER_MESSAGE = 300
# Anything shaped like an API key (sk-…, masked or not), and bearer tokens.
_KEYISH = re.compile(r"\b(sk-[A-Za-z0-9_\-*.]{3,}|Bearer\s+\S+)")
# A key this long is replaced wherever it occurs; a shorter one (`x`, for a local server
# that ignores it) only where it stands alone, so that "text" stays "text".
SAFE_KEY_LENGTH = 8
# How servers say that the request itself is wrong: OpenAI's error type (vLLM and
# llama-cpp-python use it too), and pydantic's "1 validation error" (FastAPI servers).
INVALID_TYPES = {"invalid_request_error", "BadRequestError"}
_VALIDATION = re.compile(r"\b\d+ validation errors?\b")


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
    if says_invalid(error):
        return LLMError(message)
    if status in TRANSIENT_STATUSES or status >= 500:
        retry_after = retry_after_seconds(error.response.headers)
        busy = status == 429 and not _out_of_quota(error)
        kind = ProviderBusy if busy else LLMError
        return kind(message, transient=True, retry_after=retry_after)
    return LLMError(message)


def _out_of_quota(error: openai.APIStatusError) -> bool:
    """OpenAI's 429 `insufficient_quota`: waiting will not bring capacity back."""
    body = error.body if isinstance(error.body, dict) else {}
    return "insufficient_quota" in (body.get("code"), body.get("type"))


def _server_message(error: openai.APIStatusError) -> str:
    body = error.body
    text = body.get("message") if isinstance(body, dict) else body
    if not text:
        text = error.response.reason_phrase or "no message"
    return str(text)[:MAX_SERVER_MESSAGE]


def says_invalid(error: openai.APIStatusError) -> bool:
    """The server's answer calls the request invalid: sending it again cannot help."""
    body = error.body if isinstance(error.body, dict) else {}
    if body.get("type") in INVALID_TYPES or body.get("code") in INVALID_TYPES:
        return True
    return _VALIDATION.search(_server_message(error)) is not None


def redact(text: str, api_key: str | None) -> str:
    if api_key and len(api_key) >= SAFE_KEY_LENGTH:
        text = text.replace(api_key, "[redacted]")
    elif api_key:
        alone = rf"(?<![A-Za-z0-9_\-]){re.escape(api_key)}(?![A-Za-z0-9_\-])"
        text = re.sub(alone, "[redacted]", text)
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
