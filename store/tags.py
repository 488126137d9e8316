"""Job tags: free-form labels such as `project:42`, stored in one text column.

The column holds the tags between newlines (`\\nproject:42\\ninterview:7\\n`), so a filter
on one tag is a portable substring match on SQLite and PostgreSQL alike; a tag holds no
whitespace, so no tag can match across its neighbours.
"""

from __future__ import annotations

from typing import Any

MAX_TAGS = 16
MAX_TAG_LENGTH = 64
SEPARATOR = "\n"


def problem(tags: Any) -> str | None:
    """Why `tags` is not a valid list of tags, or None when it is."""
    if not isinstance(tags, list):
        return "tags must be a list of strings"
    if len(tags) > MAX_TAGS:
        return f"at most {MAX_TAGS} tags"
    for tag in tags:
        if tag_problem(tag) is not None:
            return tag_problem(tag)
    return None


def tag_problem(tag: Any) -> str | None:
    """Why `tag` is not a valid tag, or None when it is."""
    if not isinstance(tag, str) or not 0 < len(tag) <= MAX_TAG_LENGTH:
        return f"a tag is a string of 1 to {MAX_TAG_LENGTH} characters"
    if not tag.isprintable() or any(char.isspace() for char in tag):
        return "a tag holds printable characters and no whitespace"
    return None


def encode(tags: list[str]) -> str | None:
    """The column's value for `tags` (duplicates dropped, order kept); None for no tags."""
    unique = list(dict.fromkeys(tags))
    return SEPARATOR + SEPARATOR.join(unique) + SEPARATOR if unique else None


def decode(column: str | None) -> list[str]:
    return [tag for tag in (column or "").split(SEPARATOR) if tag]


def pattern(tag: str) -> str:
    """What the column contains when the job has `tag` (match it with autoescape)."""
    return SEPARATOR + tag + SEPARATOR
