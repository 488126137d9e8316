"""`make run` (scripts/run.py): the whole stack comes up on its own and Ctrl-C stops all of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.processes import alive, children_of
from tests.stack import ROOT, free_port, wait_for_health


def test_make_run_serves_jobs_and_stops_every_child_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "JOBCAST_REDIS_NAMESPACE"}  # use the embedded server
    }
    env.update(PORT=str(port), DATABASE_URL=f"sqlite:///{tmp_path / 'dev.db'}")
    log = (tmp_path / "run.log").open("w+b")
    runner = subprocess.Popen(
        [sys.executable, "scripts/run.py"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        wait_for_health(f"http://127.0.0.1:{port}", {"run": runner}, tmp_path, timeout=60)
        children = children_of(runner.pid)
        assert len(children) >= 3  # embedded Valkey, web, worker
        response = httpx.post(
            f"http://127.0.0.1:{port}/jobs", json={"type": "chat", "params": {"prompt": "hi"}}
        )
        assert response.status_code == 202
    finally:
        runner.send_signal(signal.SIGINT)
        code = runner.wait(timeout=30)
    output = (tmp_path / "run.log").read_text()
    assert code == 0, output
    assert f"jobcast: http://127.0.0.1:{port}" in output
    assert "provider simulated" in output and "embedded Valkey" in output
    assert "jobcast: stopped" in output
    assert not [pid for pid in children if alive(pid)]
