"""Prometheus text as a scraper reads it: every sample parsed, every metric declared."""

from __future__ import annotations

import re

from tests.inprocess import Response

# A histogram's samples: its buckets, their sum and count.
HISTOGRAM_SAMPLE = re.compile(r"_(bucket|sum|count)$")
SAMPLE = re.compile(
    r'^(?P<name>[a-z_]+)(\{(?P<labels>[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*)\})? (?P<value>\S+)$'
)


def parse(response: Response) -> dict[str, float]:
    """`name{labels}` → value, from a `GET /metrics` answer (asserting its format)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    declared: set[str] = set()
    histograms: set[str] = set()
    samples: dict[str, float] = {}
    for line in response.text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            declared.add(name)
            if kind == "histogram":
                histograms.add(name)
        elif not line.startswith("#"):
            match = SAMPLE.match(line)
            assert match, f"not a Prometheus sample: {line!r}"
            family = HISTOGRAM_SAMPLE.sub("", match["name"])
            name_ok = match["name"] in declared or family in histograms
            assert name_ok, f"{match['name']} has no # TYPE line before it"
            samples[line.rsplit(" ", 1)[0]] = float(match["value"])
    return samples
