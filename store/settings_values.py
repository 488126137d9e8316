"""The formats of setting values that other modules check too: owners and API keys,
lists, URLs with a password (kept out of every log line)."""

from __future__ import annotations

import re

# Keys travel in `Authorization: Bearer` and as a WebSocket subprotocol token: letters,
# digits and -._~ only; 16 characters at least, since they are compared, not throttled.
_KEY = re.compile(r"[A-Za-z0-9._~-]{16,200}")
_OWNER = re.compile(r"[A-Za-z0-9._@-]{1,200}")


def is_valid_owner(owner: str) -> bool:
    return _OWNER.fullmatch(owner) is not None


def redact_url(url: str | None) -> str:
    """The URL without its password, for logs and messages."""
    if url is None:
        return "(unset)"
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def split_list(raw: str | None) -> list[str]:
    return [item.strip() for item in (raw or "").split(",") if item.strip()]


def parse_api_keys(raw: str | None) -> list[tuple[str, str]]:
    """`owner:key,owner:key` as pairs; ValueError naming the first bad entry (never its key)."""
    pairs = []
    for number, entry in enumerate(split_list(raw), start=1):
        owner, colon, key = entry.partition(":")
        if not colon or not is_valid_owner(owner.strip()):
            raise ValueError(f"entry {number} must be owner:key with owner in [A-Za-z0-9._@-]")
        if not _KEY.fullmatch(key.strip()):
            raise ValueError(
                f"the key of entry {number} ({owner.strip()}) must be 16-200 characters "
                "of A-Z a-z 0-9 . _ ~ -"
            )
        pairs.append((owner.strip(), key.strip()))
    if len({key for _, key in pairs}) != len(pairs):
        raise ValueError("the same key is given twice")
    return pairs
