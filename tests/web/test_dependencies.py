"""The web app checks Redis and the database as its lifespan starts (not at import)."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from store.settings import Settings
from tests.inprocess import settings_of
from tests.stack import free_port
from web.app import create_app
from web.dependencies import DependencyDown


def refused_start(settings: Settings, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Start the app, which must refuse; the lines it wrote on stderr."""
    with pytest.raises(DependencyDown), TestClient(create_app(settings)):
        pass
    return capsys.readouterr().err.splitlines()


def test_an_unreachable_redis_stops_the_start_with_one_line(
    sqlite_url: str, namespace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"redis://127.0.0.1:{free_port()}"
    [line] = refused_start(settings_of(sqlite_url, url, namespace), capsys)
    assert line.startswith(f"jobcast: cannot reach Redis at {url}: ")


def test_a_database_not_migrated_stops_the_start_with_one_line(
    redis_url: str, namespace: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database_url = f"sqlite:///{tmp_path / 'empty.db'}"
    [line] = refused_start(settings_of(database_url, redis_url, namespace), capsys)
    assert line == f"jobcast: the database at {database_url} is not migrated: run `make migrate`"
