"""Configuration mistakes: one clear line at start-up and a non-zero exit, for each process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.stack import ROOT, free_port

WEB = [sys.executable, "-m", "uvicorn", "web.app:app", "--port", str(free_port())]
WORKER = [sys.executable, "-m", "dramatiq", "actors", "--processes", "1", "--threads", "1"]


def run(command: list[str], **env: str) -> tuple[int, str]:
    full_env = {**os.environ, **env}
    done = subprocess.run(command, cwd=ROOT, env=full_env, capture_output=True, timeout=30)
    return done.returncode, done.stderr.decode()


def jobcast_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("jobcast:")]


@pytest.mark.parametrize("command", [WEB, WORKER], ids=["web", "worker"])
def test_unreachable_redis_is_one_line(command: list[str]) -> None:
    code, stderr = run(command, REDIS_URL=f"redis://127.0.0.1:{free_port()}")
    assert code != 0
    assert len(jobcast_lines(stderr)) == 1
    assert jobcast_lines(stderr)[0].startswith("jobcast: cannot reach Redis at redis://")
    assert "Traceback" not in stderr


@pytest.mark.parametrize("command", [WEB, WORKER], ids=["web", "worker"])
def test_unreachable_rabbitmq_is_one_line(command: list[str]) -> None:
    url = f"amqp://guest:guest@127.0.0.1:{free_port()}/jobcast"
    code, stderr = run(command, JOBCAST_BROKER="rabbitmq", RABBITMQ_URL=url)
    assert code != 0
    assert jobcast_lines(stderr) == [
        "jobcast: cannot reach RabbitMQ at amqp://guest:***@127.0.0.1:"
        f"{url.rsplit(':', 1)[1]}: no answer (refused or timed out)"
    ], stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("module", ["web.app", "actors"])
def test_importing_the_app_or_the_actors_connects_to_nothing(module: str) -> None:
    """Checks run when a process starts serving, not at import: a port where nothing
    listens for Redis and for PostgreSQL does not matter yet."""
    unreachable = {
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}",
        "DATABASE_URL": f"postgresql://nobody@127.0.0.1:{free_port()}/x",
    }
    code, stderr = run([sys.executable, "-c", f"import {module}"], **unreachable)
    assert (code, stderr) == (0, "")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"JOBCAST_LLM": "gpt"}, "jobcast: configuration error: JOBCAST_LLM:"),
        ({"DATABASE_URL": "mysql://localhost/x"}, "jobcast: configuration error: DATABASE_URL:"),
        ({"JOBCAST_JOB_TTL": "-5"}, "jobcast: configuration error: JOBCAST_JOB_TTL:"),
        (
            {"JOBCAST_LIMITS": "openai:gpt-4o-mini=rpm:lots"},
            "jobcast: configuration error: JOBCAST_LIMITS: Value error, entry 1: rpm must be",
        ),
        (
            {"JOBCAST_MAX_RUNNING": "alice=3,*=lots"},
            "jobcast: configuration error: JOBCAST_MAX_RUNNING: Value error, '*=lots'",
        ),
        (
            {"JOBCAST_OWNER_WEIGHTS": "alice=-1"},
            "jobcast: configuration error: JOBCAST_OWNER_WEIGHTS: Value error, 'alice=-1'",
        ),
        (
            {"JOBCAST_WORKER_METRICS_PORT": "9191"},
            "jobcast: configuration error: settings: Value error, JOBCAST_WORKER_METRICS_PORT "
            "needs PROMETHEUS_MULTIPROC_DIR",
        ),
    ],
)
def test_bad_settings_are_one_line(env: dict[str, str], expected: str) -> None:
    code, stderr = run(WEB, **env)
    assert code == 2
    assert [line for line in jobcast_lines(stderr) if line.startswith(expected)], stderr


def test_a_worker_with_malformed_limits_is_one_line_and_exit_2() -> None:
    code, stderr = run(WORKER, JOBCAST_LIMITS="openai=rpm:5")
    assert code == 2
    [line] = jobcast_lines(stderr)
    assert line.startswith("jobcast: configuration error: JOBCAST_LIMITS: Value error, entry 1")
    assert "Traceback" not in stderr


def test_an_unmigrated_database_says_to_migrate(tmp_path: object) -> None:
    code, stderr = run(WORKER, DATABASE_URL=f"sqlite:///{tmp_path}/empty.db")
    assert code != 0
    assert "run `make migrate`" in jobcast_lines(stderr)[0]


def test_migrate_brings_a_new_database_up_to_date(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/new.db"
    migrate = [sys.executable, "-m", "store.migrate"]
    assert run(migrate, DATABASE_URL=url)[0] == 0
    _, stderr = run(WORKER, DATABASE_URL=url, REDIS_URL=f"redis://127.0.0.1:{free_port()}")
    assert "run `make migrate`" not in stderr  # past the schema check, stopped at Redis


def test_a_worker_with_a_malformed_running_cap_is_one_line_and_exit_2() -> None:
    code, stderr = run(WORKER, JOBCAST_MAX_RUNNING="alice")
    assert code == 2
    [line] = jobcast_lines(stderr)
    says = "JOBCAST_MAX_RUNNING: Value error, 'alice' is not owner=value"
    assert line == f"jobcast: configuration error: {says}"
