"""Times as the API and its events write them: ISO 8601, UTC, with a `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")
