"""Prometheus exposition shared by the web's `GET /metrics` and each worker host's own.

Histograms are observed in the process where the thing happens (prometheus-client keeps
them; with PROMETHEUS_MULTIPROC_DIR set, in files that every process of the host writes
to). A scrape builds a registry for that one answer: the process's own metrics, or the
files of every process when the directory is set, plus any scrape-time collectors.

Each side exposes only the families it owns (`names`), so the web and the workers of one
host may share the directory without Prometheus counting a histogram twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

# The text format jobcast has always answered with (CONTRACT: `GET /metrics`).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds: from a few milliseconds (an idle worker takes a job) to a long job's run.
TIME_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)
# Seconds from a worker's event to a browser: a millisecond on one host, more when busy.
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# Output tokens a second of one model call: from a slow CPU model to a fast hosted one.
RATE_BUCKETS = (1, 2.5, 5, 10, 20, 40, 60, 80, 120, 160, 250, 500, 1000)


class Only:
    """The families of `source` named in `names` (others are another process kind's)."""

    def __init__(self, source: Collector, names: frozenset[str]) -> None:
        self.source = source
        self.names = names

    def collect(self) -> Iterable[Metric]:
        return [metric for metric in self.source.collect() if metric.name in self.names]


def own_metrics(multiproc_dir: str | None, names: frozenset[str]) -> Collector:
    """This kind of process's histograms: from every process of the host when they share
    a directory, else from this process's memory."""
    source: Collector = REGISTRY
    if multiproc_dir is not None:
        source = MultiProcessCollector(None, path=multiproc_dir)
    return Only(source, names)


def exposition(*collectors: Collector) -> bytes:
    """One scrape's answer in the Prometheus text format."""
    registry = CollectorRegistry()
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)
