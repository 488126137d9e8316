"""`GET /metrics`: Prometheus text exposition of the deployment's figures (store/metrics.py)
and of this web process's own (its WebSocket connections, its relay to Redis).

A dependency that is down does not fail the scrape: `jobcast_database_up` or
`jobcast_redis_up` says 0 and the figures read from it are left out, so an alert can
fire on the gauge rather than on a missing target.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from actors import QUEUES
from store import metrics
from web.relay import Hub

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# A retry's message waits on the delay queue until it is due (Dramatiq's `.DQ` suffix).
ALL_QUEUES = [*QUEUES, *(f"{queue}.DQ" for queue in QUEUES)]

Sample = tuple[dict[str, str], float]


def _metric(name: str, kind: str, help_text: str, samples: Iterable[Sample]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        label_text = ",".join(f'{key}="{_escape(val)}"' for key, val in labels.items())
        number = _number(value)
        lines.append(f"{name}{{{label_text}}} {number}" if labels else f"{name} {number}")
    return lines


def _number(value: float) -> str:
    """Counts as exact integers (a float format would round a large one)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(figures: metrics.Figures, hub: Hub) -> str:
    lines = [
        *_metric("jobcast_database_up", "gauge", "1 if the database answered this scrape.",
                 [({}, float(figures.database_up))]),
        *_metric("jobcast_redis_up", "gauge", "1 if Redis answered this scrape.",
                 [({}, float(figures.redis_up))]),
        *_metric("jobcast_websocket_connections", "gauge",
                 "WebSocket connections following a job on this web process.",
                 [({}, hub.connection_count)]),
        *_metric("jobcast_relay_connected", "gauge",
                 "1 if this web process's subscription to job events is up.",
                 [({}, float(hub.connected.is_set()))]),
    ]  # fmt: skip
    if figures.database_up:
        lines += _metric(
            "jobcast_jobs",
            "gauge",
            "Jobs that have not finished, by status.",
            [({"status": status}, count) for status, count in figures.active_jobs.items()],
        )
    if figures.redis_up:
        lines += [
            *_metric("jobcast_status_changes_total", "counter",
                     "Status events published, by the status entered (running: attempts "
                     "started).",
                     [({"status": s}, n) for s, n in sorted(figures.status_changes.items())]),
            *_metric("jobcast_queue_messages", "gauge",
                     "Messages waiting in a Dramatiq queue, not yet taken by a worker.",
                     [({"queue": q}, n) for q, n in figures.queued.items()]),
            *_metric("jobcast_workers", "gauge",
                     f"Worker processes seen in the last {metrics.WORKER_WINDOW_S} s.",
                     [({}, figures.workers)]),
            *_metric("jobcast_duplicate_deliveries_total", "counter",
                     "Job messages delivered again for a job already claimed or finished.",
                     [({}, figures.duplicate_deliveries)]),
        ]  # fmt: skip
    return "\n".join(lines) + "\n"


async def metrics_endpoint(request: Request) -> PlainTextResponse:
    figures = await run_in_threadpool(metrics.gather, request.app.state.backends, ALL_QUEUES)
    text = render(figures, request.app.state.hub)
    return PlainTextResponse(text, media_type=CONTENT_TYPE)


routes = [Route("/metrics", metrics_endpoint, methods=["GET"])]
