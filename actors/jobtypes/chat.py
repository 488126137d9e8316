"""`chat`: one prompt, one streamed answer.

An optional interview `context` (who interviews whom for which role, and the transcript
so far) goes into the instructions, so the answer is the interview's next turn.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from actors.pipeline.context import JobContext
from actors.providers.base import Message
from actors.registry import JobType, register


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: str = Field(min_length=1, max_length=80, description="Who said it")
    text: str = Field(min_length=1, max_length=20_000)


class InterviewContext(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interviewer: str = Field(min_length=1, max_length=200)
    candidate: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=200, description="The position interviewed for")
    transcript: list[Turn] = Field(default_factory=list, max_length=500)


class ChatParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=100_000, description="What to ask the model")
    system: str | None = Field(
        default=None, max_length=100_000, description="Instructions for the model"
    )
    context: InterviewContext | None = Field(
        default=None, description="An interview the answer continues"
    )


def interview(context: InterviewContext) -> str:
    """The interview as instructions: who is who, then every turn so far, in order."""
    turns = "\n".join(f"{turn.speaker}: {turn.text}" for turn in context.transcript)
    return (
        f"This is a job interview for the role of {context.role}. "
        f"The interviewer is {context.interviewer}; the candidate is {context.candidate}.\n"
        f"Transcript so far:\n{turns or '(nothing yet)'}"
    )


def messages_of(params: ChatParams) -> list[Message]:
    system = [params.system] if params.system else []
    if params.context is not None:
        system.append(interview(params.context))
    messages: list[Message] = []
    if system:
        messages.append({"role": "system", "content": "\n\n".join(system)})
    messages.append({"role": "user", "content": params.prompt})
    return messages


async def run(ctx: JobContext, params: ChatParams) -> dict[str, Any]:
    messages = messages_of(params)
    await ctx.progress(5, "Asking the model…", "answer")
    text = await ctx.llm.stream_text(messages, stage="answer")
    await ctx.progress(95, "Answer received", "answer")
    return {"text": text}


register(
    JobType(
        name="chat",
        title="Chat",
        description="One prompt, one answer streamed as the model writes it; "
        "optionally the next turn of an interview (`context`).",
        params=ChatParams,
        run=run,
        time_limit=300,
    )
)
