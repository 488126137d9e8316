"""What a model call costs: a price table per model, from `JOBCAST_PRICES`.

    JOBCAST_PRICES="gpt-4o-mini=0.15/0.60;gpt-4o=2.50/10;simulated-1=0"

Each entry is `model=prompt/completion` in US dollars per million tokens (one number
prices both kinds alike). A model not in the table costs 0: the table is the operator's
statement of what they pay (self-hosted models often cost nothing per token), and a
price library bundled here would be out of date the day a provider changes its prices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENTRY = re.compile(r"\s*([^=;\s]+)\s*=\s*([0-9.]+)\s*(?:/\s*([0-9.]+)\s*)?")
PER_TOKENS = 1_000_000


@dataclass(frozen=True)
class Price:
    """US dollars per million prompt and completion tokens."""

    prompt: float
    completion: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.prompt + completion_tokens * self.completion) / PER_TOKENS


FREE = Price(0.0, 0.0)


@dataclass(frozen=True)
class Prices:
    table: dict[str, Price]

    def of(self, model: str) -> Price:
        return self.table.get(model, FREE)

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        return self.of(model).cost(prompt_tokens, completion_tokens)


NO_PRICES = Prices({})


def parse_prices(raw: str) -> Prices:
    """The table of `model=prompt/completion;…`; ValueError naming the first bad entry."""
    table: dict[str, Price] = {}
    for entry in (part for part in raw.split(";") if part.strip()):
        match = _ENTRY.fullmatch(entry)
        try:
            if match is None:
                raise ValueError
            prompt = float(match[2])
            completion = float(match[3]) if match[3] is not None else prompt
        except ValueError:
            raise ValueError(
                f"{entry.strip()!r} must be model=prompt/completion (USD per million tokens)"
            ) from None
        table[match[1]] = Price(prompt, completion)
    return Prices(table)
