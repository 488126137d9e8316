"""`JOBCAST_LIMITS`: what each provider's model allows per minute, as a user writes it.

    openai:gpt-4o-mini=rpm:500,tpm:200000;openai:gpt-4o=tpm:30000,reply:2000

One entry per `provider:model` (the model name may itself hold colons, as Ollama's
`llama3:8b`), separated by `;`. Each takes `rpm` (requests per minute), `tpm` (prompt
plus completion tokens per minute) and `reply` (the completion tokens a call reserves
before it starts, 1000 unless given); an omitted `rpm` or `tpm` is not limited.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_REPLY_TOKENS = 1000
_FIELDS = ("rpm", "tpm", "reply")


@dataclass(frozen=True)
class ModelLimits:
    rpm: int | None = None
    tpm: int | None = None
    reply: int = DEFAULT_REPLY_TOKENS


def parse_limits(raw: str) -> dict[tuple[str, str], ModelLimits]:
    """`(provider, model) → ModelLimits`; ValueError naming the first bad entry."""
    limits: dict[tuple[str, str], ModelLimits] = {}
    for number, entry in enumerate((e.strip() for e in raw.split(";")), start=1):
        if not entry:
            continue
        target, equals, spec = entry.partition("=")
        provider, colon, model = target.strip().partition(":")
        if not (equals and colon and provider.strip() and model.strip()):
            raise ValueError(f"entry {number} ({entry!r}) must be provider:model=rpm:N,tpm:N")
        key = (provider.strip(), model.strip())
        if key in limits:
            raise ValueError(f"entry {number}: {target.strip()} is given twice")
        limits[key] = ModelLimits(**_numbers(number, spec))
    return limits


def _numbers(number: int, spec: str) -> dict[str, int]:
    values: dict[str, int] = {}
    for part in (p.strip() for p in spec.split(",")):
        name, colon, value = part.partition(":")
        name = name.strip().lower()
        if not colon or name not in _FIELDS:
            raise ValueError(f"entry {number}: {part!r} is not one of rpm:N, tpm:N, reply:N")
        if name in values:
            raise ValueError(f"entry {number}: {name} is given twice")
        if not value.strip().isdigit() or int(value) < 1:
            raise ValueError(f"entry {number}: {name} must be a whole number above 0")
        values[name] = int(value)
    return values
