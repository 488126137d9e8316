"""`chat`: one prompt, one streamed answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from actors.pipeline.context import JobContext
from actors.providers.base import Message
from actors.registry import JobType, register


class ChatParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=100_000, description="What to ask the model")
    system: str | None = Field(
        default=None, max_length=100_000, description="Instructions for the model"
    )


async def run(ctx: JobContext, params: ChatParams) -> dict[str, Any]:
    messages: list[Message] = []
    if params.system:
        messages.append({"role": "system", "content": params.system})
    messages.append({"role": "user", "content": params.prompt})
    await ctx.progress(5, "Asking the model…", "answer")
    text = await ctx.llm.stream_text(messages, stage="answer")
    await ctx.progress(95, "Answer received", "answer")
    return {"text": text}


register(
    JobType(
        name="chat",
        title="Chat",
        description="One prompt, one answer streamed as the model writes it.",
        params=ChatParams,
        run=run,
        time_limit=300,
    )
)
