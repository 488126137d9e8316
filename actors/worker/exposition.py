"""Each worker host serves its processes' histograms (actors/metrics.py) on its own port.

Like Dramatiq's Prometheus middleware, the server is a `fork` the dramatiq CLI starts
beside the worker processes; it reads the files they all write to PROMETHEUS_MULTIPROC_DIR
and answers `GET /metrics` on JOBCAST_WORKER_METRICS_HOST:JOBCAST_WORKER_METRICS_PORT.
Workers may run on any number of hosts, so Prometheus scrapes each of them (the web's
`/metrics` has the deployment's figures and the web's own histograms). Unlike Dramatiq's
middleware, nothing here sets the environment: the directory is the operator's to give,
and prometheus-client reads it itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dramatiq
from dramatiq.middleware import Middleware
from prometheus_client.multiprocess import mark_process_dead

from actors.metrics import NAMES
from store.prometheus import CONTENT_TYPE, exposition, own_metrics
from store.settings import Settings, get_settings

log = logging.getLogger(__name__)


class WorkerMetrics(Middleware):
    def __init__(self, settings: Settings) -> None:
        self.port = settings.worker_metrics_port
        self.directory = settings.prometheus_multiproc_dir

    @property
    def forks(self) -> list[Callable[[], int]]:
        return [serve] if self.port is not None else []

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if self.directory is not None:
            mark_process_dead(os.getpid(), self.directory)  # its live gauges, if any, go


class _Handler(BaseHTTPRequestHandler):
    directory: str | None = None

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != "/metrics":
            self.send_error(404)
            return
        body = exposition(own_metrics(self.directory, NAMES))
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug(format, *args)


def serve() -> int:
    """The fork's body: serve until the CLI stops it (SIGTERM ends the process)."""
    settings = get_settings()
    assert settings.worker_metrics_port is not None
    _Handler.directory = settings.prometheus_multiproc_dir
    address = (settings.worker_metrics_host, settings.worker_metrics_port)
    try:
        server = ThreadingHTTPServer(address, _Handler)
    except OSError as error:  # the workers go on: only their metrics are missing
        log.error("worker metrics not served: cannot listen on %s:%d: %s", *address, error)
        return 1
    with server:
        log.info("worker metrics on http://%s:%d/metrics", *address)
        server.serve_forever()
    return 0
