"""`GET /metrics` in-process: Prometheus text a scraper can parse, with figures that follow
what the API does. The figures a worker moves are tested on running processes
(tests/e2e/test_metrics.py).
"""

from __future__ import annotations

from store.keys import QUEUES
from tests.inprocess import InProcess
from tests.prometheus import parse

CANCELLED = 'jobcast_status_changes_total{status="cancelled"}'


def scrape(web_app: InProcess) -> dict[str, float]:
    return parse(web_app.client.get("/metrics"))


def test_every_queue_and_its_delay_queue_is_reported(web_app: InProcess) -> None:
    figures = scrape(web_app)
    assert (figures["jobcast_database_up"], figures["jobcast_redis_up"]) == (1, 1)
    for queue in QUEUES:
        for name in (queue, f"{queue}.DQ"):
            assert figures[f'jobcast_queue_messages{{queue="{name}"}}'] >= 0


def test_the_figures_follow_jobs_and_connections(web_app: InProcess) -> None:
    before = scrape(web_app)
    job = web_app.parked()
    with web_app.client.websocket_connect(f"/jobs/{job.id}/events") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        watching = scrape(web_app)
    assert web_app.client.post(f"/jobs/{job.id}/cancel").status_code == 202
    after = scrape(web_app)

    assert watching['jobcast_jobs{status="pending"}'] >= 1
    assert watching["jobcast_websocket_connections"] >= 1
    assert after[CANCELLED] >= before.get(CANCELLED, 0) + 1
