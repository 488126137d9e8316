"""The jobs the scenarios submit, and the settings that make them what they are."""

from __future__ import annotations

import json
from dataclasses import dataclass

from store.settings import Settings


@dataclass(frozen=True)
class Workload:
    name: str  # how the report names it
    body: bytes  # a POST /jobs body
    settings: dict[str, str]  # for web and worker processes alike


def noop() -> Workload:
    """A job that does nothing: `bench_noop` where JOBCAST_JOB_MODULES exists (issue #4).

    Before that setting exists, a `chat` job answered with one token at once stands in.
    """
    if "job_modules" in Settings.model_fields:
        return Workload(
            "`bench_noop` (bench/jobtypes.py, loaded with JOBCAST_JOB_MODULES)",
            json.dumps({"type": "bench_noop", "params": {}}).encode(),
            {"JOBCAST_JOB_MODULES": "bench.jobtypes"},
        )
    return Workload(
        "`chat` with a one-token reply and no wait (JOBCAST_SIM_TOKENS=1, JOBCAST_SIM_TTFT=0)"
        " standing in for a no-op job type",
        chat_body("noop"),
        {"JOBCAST_SIM_TOKENS": "1", "JOBCAST_SIM_TTFT": "0", "JOBCAST_SIM_TPS": "1000"},
    )


def chat_body(prompt: str) -> bytes:
    return json.dumps({"type": "chat", "params": {"prompt": prompt}}).encode()


def chat(ttft: float, tps: float, tokens: int) -> Workload:
    return Workload(
        f"`chat` on the simulated model: {ttft:g} s to the first token, {tps:g} tokens/s, "
        f"{tokens} tokens",
        chat_body("benchmark"),
        {
            "JOBCAST_SIM_TTFT": str(ttft),
            "JOBCAST_SIM_TPS": str(tps),
            "JOBCAST_SIM_TOKENS": str(tokens),
            "JOBCAST_SIM_SEED": "7",
        },
    )
