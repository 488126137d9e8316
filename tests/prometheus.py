"""Prometheus text as a scraper reads it: every sample parsed, every metric declared."""

from __future__ import annotations

import re

from tests.inprocess import Response

SAMPLE = re.compile(
    r'^(?P<name>[a-z_]+)(\{(?P<labels>[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*)\})? (?P<value>\S+)$'
)


def parse(response: Response) -> dict[str, float]:
    """`name{labels}` → value, from a `GET /metrics` answer (asserting its format)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    declared: set[str] = set()
    samples: dict[str, float] = {}
    for line in response.text.splitlines():
        if line.startswith("# TYPE "):
            declared.add(line.split()[2])
        elif not line.startswith("#"):
            match = SAMPLE.match(line)
            assert match, f"not a Prometheus sample: {line!r}"
            assert match["name"] in declared, f"{match['name']} has no # TYPE line before it"
            samples[line.rsplit(" ", 1)[0]] = float(match["value"])
    return samples
