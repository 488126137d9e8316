"""What a scenario hands to the report: its figures, its checks against targets, notes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Check:
    """One target of the issue: our figure, the baseline's, and whether it was met."""

    name: str
    ours: float
    target: str
    met: bool
    unit: str = ""
    baseline: float | None = None
    ratio: float | None = None  # ours ÷ baseline, where the target is a ratio

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline and not math.isnan(self.baseline):
            self.ratio = self.ours / self.baseline


@dataclass
class Result:
    key: str  # "S1"
    title: str
    headers: list[str]
    rows: list[list[str]]
    checks: list[Check]
    setup: str = ""
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # raw figures, for plots and JSON
    seconds: float = 0.0


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"
