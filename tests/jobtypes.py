"""Job types that exist only for the test suite, loaded with JOBCAST_JOB_MODULES=tests.jobtypes.

They force the faults a real pipeline meets: transient and permanent model errors, a
pipeline that kills its own worker, a long streaming job.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from actors.pipeline.context import JobContext
from actors.pipeline.errors import LLMError
from actors.registry import JobType, register


class FlakyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    failures: int = Field(default=0, ge=0, description="attempts that fail before one succeeds")
    permanent: bool = Field(default=False, description="fail with a non-transient error")
    retry_after: float | None = Field(default=None, ge=0, description="the server's hint (s)")


async def flaky(ctx: JobContext, params: FlakyParams) -> dict[str, Any]:
    await ctx.progress(10, f"attempt {ctx.attempt} started", "work")
    await ctx.progress(40, "calling the model", "work")
    if params.permanent:
        raise LLMError("the model server answered 400: bad request", transient=False)
    if ctx.attempt <= params.failures:
        raise LLMError(
            f"the model server answered 503 (attempt {ctx.attempt})",
            transient=True,
            retry_after=params.retry_after,
        )
    return {"attempt": ctx.attempt}


class LongChatParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = "Tell a long story"
    rounds: int = Field(default=3, ge=1, le=50, description="model calls, one after another")


async def long_chat(ctx: JobContext, params: LongChatParams) -> dict[str, Any]:
    texts = []
    for round_ in range(params.rounds):
        await ctx.progress(100 * round_ / params.rounds, f"round {round_ + 1}", "story")
        prompt = f"{params.prompt} (part {round_ + 1})"
        reply = await ctx.llm.stream_text([{"role": "user", "content": prompt}], stage="story")
        texts.append(reply)
    return {"text": "".join(texts)}


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


async def kill_worker(ctx: JobContext, params: NoParams) -> dict[str, Any]:
    await ctx.progress(20, f"attempt {ctx.attempt}: about to kill this worker", "doom")
    os.kill(os.getpid(), signal.SIGKILL)
    return {}


register(JobType("flaky", "Flaky", "Fails transiently some times.", FlakyParams, flaky))
register(
    JobType("long_chat", "Long chat", "Several streamed model calls.", LongChatParams, long_chat)
)
register(
    JobType("kill_worker", "Kill worker", "Kills its own worker process.", NoParams, kill_worker)
)
