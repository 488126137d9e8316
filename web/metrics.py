"""`GET /metrics`: the deployment's figures (store/metrics.py, read from the database and
Redis at scrape time) and this web process's own, in the Prometheus text format made by
prometheus-client, plus the web's histogram of event delivery lag.

A dependency that is down does not fail the scrape: `jobcast_database_up` or
`jobcast_redis_up` says 0 and the figures read from it are left out, so an alert can
fire on the gauge rather than on a missing target. The workers' histograms are served by
each worker host (actors/worker/exposition.py, docs/observability.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime

from prometheus_client import Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors import QUEUES
from store import metrics
from store.events import Event
from store.prometheus import CONTENT_TYPE, LAG_BUCKETS, exposition, own_metrics
from web.relay import Hub

# A retry's message waits on the delay queue until it is due (Dramatiq's `.DQ` suffix).
ALL_QUEUES = [*QUEUES, *(f"{queue}.DQ" for queue in QUEUES)]

DELIVERY_LAG = Histogram(
    "jobcast_event_delivery_lag_seconds",
    "From an event's creation in a worker to its sending to the first WebSocket client of "
    "this web process that follows its job (live events, not replays), by event type.",
    ["type"],
    buckets=LAG_BUCKETS,
)
NAMES = frozenset({"jobcast_event_delivery_lag_seconds"})

# By job followed on this process: the last seq whose delivery was observed.
_first_sent: dict[str, int] = {}
FIRST_SENT_LIMIT = 10_000


def delivered(job_id: str, event: Event) -> None:
    """A live event was sent to a client: observed for the first client of this process
    that it reaches (a few microseconds each; a thousand watchers must not cost a
    thousand). `ts` is the worker's wall clock when it made the event."""
    if _first_sent.get(job_id, 0) >= event.seq or not event.ts:
        return
    if event.terminal:
        _first_sent.pop(job_id, None)
    else:
        if len(_first_sent) >= FIRST_SENT_LIMIT:  # jobs left before their end: forget
            _first_sent.clear()
        _first_sent[job_id] = event.seq
    lag = time.time() - datetime.fromisoformat(event.ts).timestamp()
    DELIVERY_LAG.labels(event.kind).observe(max(lag, 0.0))


def _gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, value=value)


class Figures:
    """The scrape-time figures as metric families (a prometheus-client collector)."""

    def __init__(self, figures: metrics.Figures, hub: Hub) -> None:
        self.figures = figures
        self.hub = hub

    def collect(self) -> Iterable[Metric]:
        f, hub = self.figures, self.hub
        yield _gauge(
            "jobcast_database_up", "1 if the database answered this scrape.", float(f.database_up)
        )
        yield _gauge("jobcast_redis_up", "1 if Redis answered this scrape.", float(f.redis_up))
        yield _gauge(
            "jobcast_websocket_connections",
            "WebSocket connections following a job on this web process.",
            hub.connection_count,
        )
        yield _gauge("jobcast_relay_connected",
                     "1 if this web process's subscription to job events is up.",
                     float(hub.connected.is_set()))  # fmt: skip
        if f.database_up:
            jobs = GaugeMetricFamily(
                "jobcast_jobs", "Jobs that have not finished, by status.", labels=["status"]
            )
            for status, count in f.active_jobs.items():
                jobs.add_metric([status], count)
            yield jobs
        if f.redis_up:
            yield from self._from_redis()

    def _from_redis(self) -> Iterable[Metric]:
        f = self.figures
        changes = CounterMetricFamily(
            "jobcast_status_changes_total",
            "Status events published, by the status entered (running: attempts started).",
            labels=["status"],
        )
        for status, count in sorted(f.status_changes.items()):
            changes.add_metric([status], count)
        yield changes
        queued = GaugeMetricFamily(
            "jobcast_queue_messages",
            "Messages waiting in a Dramatiq queue, not yet taken by a worker.",
            labels=["queue"],
        )
        for queue, count in f.queued.items():
            queued.add_metric([queue], count)
        yield queued
        yield _gauge(
            "jobcast_workers",
            f"Worker processes seen in the last {metrics.WORKER_WINDOW_S} s.",
            f.workers,
        )
        yield CounterMetricFamily(
            "jobcast_duplicate_deliveries_total",
            "Job messages delivered again for a job already claimed or finished.",
            value=f.duplicate_deliveries,
        )  # fmt: skip


def render(figures: metrics.Figures, hub: Hub, multiproc_dir: str | None) -> bytes:
    return exposition(Figures(figures, hub), own_metrics(multiproc_dir, NAMES))


async def metrics_endpoint(request: Request) -> Response:
    state = request.app.state
    figures = await run_in_threadpool(metrics.gather, state.backends, ALL_QUEUES)
    body = render(figures, state.hub, state.metrics_dir)
    return Response(body, media_type=CONTENT_TYPE)


routes = [Route("/metrics", metrics_endpoint, methods=["GET"])]
