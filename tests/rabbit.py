"""RabbitMQ for the tests: vhosts of the test run's own on the machine's RabbitMQ.

The RabbitMQ at TEST_RABBITMQ_URL (default: guest on 127.0.0.1:5672, which .ci/run starts
when nothing answers) is shared, so tests never touch a vhost they did not create. Vhosts
are made with `rabbitmqctl import_definitions` (about 2 s a call), two at a time (the
first two in the background once a selected test needs RabbitMQ), and reused: a stack
that stops hands its vhost back with its queues deleted, and the run deletes its vhosts
when it ends. Without RabbitMQ (or rabbitmqctl) the tests that need it skip and say why,
except with CI set (CI=true), where they fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import uuid
from urllib.parse import quote

import pika
import pytest
from pika.exceptions import AMQPError

from store.keys import QUEUES
from store.settings_values import redact_url

SERVER_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672")
USER = pika.URLParameters(SERVER_URL).credentials.username
RABBITMQ_HOST = pika.URLParameters(SERVER_URL).host
RABBITMQ_PORT = pika.URLParameters(SERVER_URL).port
MADE_AT_ONCE = 2
# The queues Dramatiq declares for each of ours: the queue, its delay and dead-letter queues.
DRAMATIQ_QUEUES = [f"{queue}{suffix}" for queue in QUEUES for suffix in ("", ".DQ", ".XQ")]


def _rabbitmqctl(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["rabbitmqctl", "-q", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _wait_all(calls: list[subprocess.Popen[bytes]]) -> None:
    for call in calls:
        _, stderr = call.communicate(timeout=60)
        if call.returncode != 0:
            raise RuntimeError(f"{call.args!r}: {stderr.decode().strip()}")


class Vhosts:
    """The run's vhosts: `lease` one for a stack, `release` it when the stack stops."""

    def __init__(self) -> None:
        self.prefix = f"jobcast-test-{uuid.uuid4().hex[:8]}"
        self.made: list[str] = []
        self.free: list[str] = []
        self.unavailable: str | None = None
        self._early: threading.Thread | None = None

    def prepare(self) -> None:
        """Make the first vhosts in the background, while the tests before theirs run."""
        self._early = threading.Thread(target=self._stock, name="rabbit-vhosts", daemon=True)
        self._early.start()

    def lease(self) -> str:
        """The URL of a vhost nobody else uses now (skips the test without RabbitMQ)."""
        if self._early is not None:
            self._early.join()
        self._stock()
        if self.unavailable:
            if os.environ.get("CI"):  # as the browser tests: CI never skips them silently
                pytest.fail(f"CI needs RabbitMQ: {self.unavailable}")
            pytest.skip(f"RabbitMQ tests need RabbitMQ: {self.unavailable}")
        vhost = self.free.pop()
        return f"{SERVER_URL.rstrip('/')}/{quote(vhost, safe='')}"

    def release(self, url: str) -> None:
        """Back to the pool, emptied: a later stack must not see this one's messages."""
        parameters = pika.URLParameters(url)
        with pika.BlockingConnection(parameters) as connection:
            channel = connection.channel()
            for queue in DRAMATIQ_QUEUES:
                channel.queue_delete(queue)  # RabbitMQ answers ok for a missing queue
        self.free.append(parameters.virtual_host)

    def close(self) -> None:
        if self._early is not None:
            self._early.join()
        if self.made:
            _wait_all([_rabbitmqctl("delete_vhost", vhost) for vhost in self.made])

    def _stock(self) -> None:
        """At least one vhost free, unless RabbitMQ or rabbitmqctl is missing (then why)."""
        if self.unavailable is None:
            self.unavailable = _why_unreachable() or ""
        if self.free or self.unavailable:
            return
        try:
            self._make(MADE_AT_ONCE)
        except (OSError, RuntimeError) as error:
            self.unavailable = f"rabbitmqctl cannot add a vhost ({error})"

    def _make(self, count: int) -> None:
        """`count` vhosts, the user allowed everything in them, in one rabbitmqctl call."""
        names = [f"{self.prefix}-{len(self.made) + n}" for n in range(count)]
        everything = {"configure": ".*", "write": ".*", "read": ".*"}
        definitions = {
            "vhosts": [{"name": name} for name in names],
            "permissions": [{"user": USER, "vhost": name, **everything} for name in names],
        }
        with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
            json.dump(definitions, file)
            file.flush()
            os.chmod(file.name, 0o644)  # rabbitmqctl reads it as the rabbitmq user
            self.made += names  # deleted at the end even if the import half failed
            _wait_all([_rabbitmqctl("import_definitions", file.name)])
        self.free += names


def _why_unreachable() -> str | None:
    try:
        pika.BlockingConnection(pika.URLParameters(SERVER_URL)).close()
    except AMQPError as error:
        return f"nothing answers at {redact_url(SERVER_URL)} ({error!r})"
    return None
