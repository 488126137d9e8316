"""JOBCAST_BROKER and RABBITMQ_URL: a mistake is one line naming the variable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from store.errors import ConfigError
from store.settings import get_settings


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The process environment to change; settings are read afresh, and again after."""
    monkeypatch.delenv("RABBITMQ_URL", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"JOBCAST_BROKER": "kafka"}, "JOBCAST_BROKER: Input should be 'redis' or 'rabbitmq'"),
        (
            {"JOBCAST_BROKER": "rabbitmq"},
            "RABBITMQ_URL: Value error, must be set when JOBCAST_BROKER=rabbitmq",
        ),
        (
            {"JOBCAST_BROKER": "rabbitmq", "RABBITMQ_URL": "localhost:5672"},
            "RABBITMQ_URL: Value error, must start with amqp:// or amqps://",
        ),
    ],
)
def test_a_bad_broker_setting_names_its_variable(
    environment: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for name, value in env.items():
        environment.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        get_settings()
    assert str(error.value).startswith(expected), str(error.value)


def test_redis_is_the_default_and_rabbitmq_takes_its_url(environment: pytest.MonkeyPatch) -> None:
    assert (get_settings().broker, get_settings().rabbitmq_url) == ("redis", None)
    environment.setenv("JOBCAST_BROKER", " RabbitMQ ")
    environment.setenv("RABBITMQ_URL", "amqp://jobcast:secret@rabbit:5672/jobcast")
    get_settings.cache_clear()
    settings = get_settings()
    assert (settings.broker, settings.rabbitmq_url) == (
        "rabbitmq",
        "amqp://jobcast:secret@rabbit:5672/jobcast",
    )
