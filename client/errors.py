"""What can go wrong talking to a jobcast server.

ApiError            the server answered with an error (the contract's error shape)
 ├── Unreachable    no answer at all: connection refused, DNS, time-out
 └── StreamError    the event stream ended for good (unknown job, bad key, too many drops)
"""

from __future__ import annotations

import json
from typing import Any


class ApiError(Exception):
    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        code: str = "error",
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = details or []

    @classmethod
    def from_response(cls, status: int, body: bytes) -> ApiError:
        try:
            error = json.loads(body)["error"]
            return cls(
                str(error["message"]),
                status=status,
                code=str(error["code"]),
                details=error.get("details") or [],
            )
        except (ValueError, KeyError, TypeError):
            return cls(f"HTTP {status}", status=status, code="http_error")

    def __str__(self) -> str:
        head = f"{self.status} {self.code}: {self.message}" if self.status else self.message
        lines = [head] + [
            f"  {detail.get('field', '?')}: {detail.get('message', '')}" for detail in self.details
        ]
        return "\n".join(lines)


class Unreachable(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="unreachable")


class StreamError(ApiError):
    def __init__(self, message: str, close_code: int | None = None) -> None:
        super().__init__(message, code="stream_closed")
        self.close_code = close_code
