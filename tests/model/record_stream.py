"""`python -m tests.model.record_stream OUT.sse`: record one streamed chat completion of
the real local model (llama-cpp-python serving SmolLM2-135M-Instruct, as `make
test-model` runs it) as the raw SSE body, for tests and `bench.openai_stream` to replay.

The request is the one `OpenAIProvider` sends for a chat (usage asked for in the stream).
Needs `make .venv/.installed-model`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import httpx

from tests.model.model_server import MODEL_NAME, running_model_server

PROMPT = "Tell me about the lighthouse keeper and the storm, in a few sentences."


def record(out: Path) -> int:
    body = {
        "model": MODEL_NAME,
        "messages": [{"role": "user", "content": PROMPT}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 160,
        "temperature": 0,
    }
    with running_model_server(Path(tempfile.mkdtemp(prefix="record-"))) as server:
        url = f"{server.url}/v1/chat/completions"
        with httpx.stream("POST", url, json=body, timeout=300) as response:
            response.raise_for_status()
            data = b"".join(response.iter_bytes())
    out.write_bytes(data)
    return data.count(b"data: ")


if __name__ == "__main__":
    target = Path(sys.argv[1])
    print(f"{target}: {record(target)} events")
