"""The observability profile of docker-compose.yml, read as Docker would (Docker cannot
run here): Prometheus scrapes what the services serve, Grafana's files exist, and every
metric the dashboard charts is one that jobcast exposes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from actors.metrics import NAMES as WORKER_NAMES
from tests.inprocess import InProcess
from tests.prometheus import parse
from web.metrics import NAMES as WEB_NAMES

ROOT = Path(__file__).resolve().parent.parent


def load(path: str) -> Any:
    return yaml.safe_load((ROOT / path).read_text())


def test_prometheus_and_grafana_are_an_opt_in_profile() -> None:
    services = load("docker-compose.yml")["services"]
    profiled = {name for name, service in services.items() if "profiles" in service}
    assert profiled == {"prometheus", "grafana", "rabbitmq"}  # rabbitmq: docs/brokers.md
    assert all(
        services[name]["profiles"] == ["observability"] for name in ("prometheus", "grafana")
    )
    for volume in services["prometheus"]["volumes"] + services["grafana"]["volumes"]:
        assert (ROOT / volume.split(":")[0]).is_file(), volume


def test_prometheus_scrapes_the_port_each_service_serves_metrics_on() -> None:
    services = load("docker-compose.yml")["services"]
    worker, web = services["worker"], services["web"]
    served = {
        "web": int(web["command"][web["command"].index("--port") + 1]),
        "worker": int(worker["environment"]["JOBCAST_WORKER_METRICS_PORT"]),
    }
    assert str(served["worker"]) in worker["expose"]
    # The worker's port needs a directory its processes share (store/settings.py).
    assert worker["environment"]["PROMETHEUS_MULTIPROC_DIR"] in services["worker"]["tmpfs"]
    scraped = {
        name: config["port"]
        for job in load("deploy/prometheus.yml")["scrape_configs"]
        for config in job["dns_sd_configs"]
        for name in config["names"]
    }
    assert scraped == served


def test_the_dashboard_charts_only_metrics_jobcast_exposes(web_app: InProcess) -> None:
    dashboard = json.loads((ROOT / "docs/grafana-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    charted = {
        re.sub(r"_(bucket|count|sum)$", "", name)
        for expr in exprs
        for name in re.findall(r"jobcast_[a-z_]+", expr)
    }
    scrape = web_app.client.get("/metrics")
    parse(scrape)
    figures = set(re.findall(r"^# TYPE (\S+)", scrape.text, re.MULTILINE))
    exposed = figures | WORKER_NAMES | WEB_NAMES
    assert charted <= exposed, charted - exposed
    assert charted >= WORKER_NAMES | WEB_NAMES, "every histogram has a panel"
