"""What a job's model calls cost: per stage, adding up into the job's `usage`.

    {"provider": "openai", "prompt_tokens": 812, "completion_tokens": 344,
     "llm_calls": 9, "llm_seconds": 12.4, "cost": 0.000328, "tokens_counted_locally": false,
     "stages": {"analyze": {"model": "gpt-4o-mini", "prompt_tokens": 200, …}, …}}

`llm_seconds` is the time spent waiting on the model, summed over calls: calls that run
in parallel each count in full. A phase timed with `timed(stage)` also has `seconds`, its
wall time. `tokens_counted_locally` is true when some server gave no
usage and we counted the tokens ourselves. `cost` is in US dollars at the worker's price
table (`JOBCAST_PRICES`, store/prices.py); a model missing from it costs 0.
`reused_calls` counts the model calls an attempt did not make because an earlier
attempt's checkpoint had their output (pipeline/checkpoints.py).

Where structured answers were asked for (the job and each such stage):

    "json_mode": "json_object", "json_answers": 5, "json_clamped": 1, "json_repaired": 1

`json_mode` is how the requests asked for JSON (`json_schema`, `json_object`: constrained
decoding by the server; `prompt`: the schema in the prompt only; several joined by `+`),
`json_answers` the answers that passed their schema; of those, `json_clamped` passed once
numbers outside their bounds were moved to the bound, `json_repaired` only after a
repair round (the rest passed as the model wrote them).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from actors.providers.base import Usage

Answered = Literal["first", "clamped", "repaired"]


@dataclass
class Tally:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    llm_calls: int = 0
    llm_seconds: float = 0.0
    json_modes: set[str] = field(default_factory=set)
    json_answers: int = 0
    json_clamped: int = 0
    json_repaired: int = 0
    cost: float = 0.0  # US dollars, at the worker's price table (store/prices.py)

    def add(self, call: Usage, seconds: float, cost: float = 0.0) -> None:
        self.cost += cost
        self.prompt_tokens += call.prompt_tokens
        self.completion_tokens += call.completion_tokens
        self.llm_calls += 1
        self.llm_seconds += seconds
        if call.json_mode is not None:
            self.json_modes.add(call.json_mode)

    def answered(self, how: Answered) -> None:
        self.json_answers += 1
        self.json_clamped += how == "clamped"
        self.json_repaired += how == "repaired"

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "llm_calls": self.llm_calls,
            "llm_seconds": round(self.llm_seconds, 3),
            "cost": round(self.cost, 6),
        }
        if self.json_modes or self.json_answers:
            data["json_mode"] = "+".join(sorted(self.json_modes)) or None
            data["json_answers"] = self.json_answers
            data["json_clamped"] = self.json_clamped
            data["json_repaired"] = self.json_repaired
        return data


@dataclass
class StageTally(Tally):
    model: str = ""
    seconds: float | None = None  # wall time of a timed phase, model calls or not


@dataclass
class UsageTotals:
    provider: str
    total: Tally = field(default_factory=Tally)
    stages: dict[str, StageTally] = field(default_factory=dict)
    counted: bool = False
    reused_calls: int = 0  # model calls not made again: their steps' saved outputs were reused

    def record(
        self, stage: str, model: str, call: Usage, seconds: float, cost: float = 0.0
    ) -> None:
        """Add one finished (or abandoned) call of `stage` on `model` that cost `cost`."""
        self.total.add(call, seconds, cost)
        self.stages.setdefault(stage, StageTally()).add(call, seconds, cost)
        self.stages[stage].model = model
        self.counted |= call.counted

    def answered(self, stage: str, how: Answered) -> None:
        """A structured answer of `stage` passed its schema: as written, once clamped, or
        after a repair round."""
        self.total.answered(how)
        self.stages.setdefault(stage, StageTally()).answered(how)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Record the wall time of a phase (`seconds`), whatever it spends it on."""
        started = time.monotonic()
        try:
            yield
        finally:
            tally = self.stages.setdefault(stage, StageTally())
            tally.seconds = (tally.seconds or 0) + time.monotonic() - started

    def as_json(self) -> dict[str, Any]:
        stages = {name: _stage_json(s) for name, s in self.stages.items()}
        return {
            "provider": self.provider,
            **self.total.as_json(),
            "tokens_counted_locally": self.counted,
            "reused_calls": self.reused_calls,
            "stages": stages,
        }


def _stage_json(tally: StageTally) -> dict[str, Any]:
    data = {"model": tally.model or None, **tally.as_json()}
    if tally.seconds is not None:
        data["seconds"] = round(tally.seconds, 3)
    return data
