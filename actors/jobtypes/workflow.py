"""`generate_workflow`: requirements in, a complete workflow definition out.

Three phases, each the progress `stage`: *analyze* (0–30) sums the requirements up as
JSON on the small model; *generate* (30–90) writes the workflow JSON on the large model,
streamed to clients; *validate* (90–100) checks it against the schema and, when it
fails, sends it back once with the validation error. Each phase's tokens and seconds are
in `usage.stages`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from actors.pipeline.context import JobContext
from actors.pipeline.prompts import ask
from actors.pipeline.structured import schema_of
from actors.registry import JobType, register

StepKind = Literal["action", "decision", "wait", "notify", "approval"]


class WorkflowParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requirements: str = Field(
        min_length=1, max_length=20_000, description="What the workflow must do, in prose"
    )


class Analysis(BaseModel):
    goal: str = Field(min_length=1, max_length=300)
    actors: list[str] = Field(min_length=1, max_length=6)
    inputs: list[str] = Field(max_length=8)
    outputs: list[str] = Field(min_length=1, max_length=8)
    outline: list[str] = Field(min_length=2, max_length=12)


class WorkflowStep(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    kind: StepKind
    actor: str = Field(min_length=1, max_length=80)
    description: str = Field(min_length=1, max_length=500)


class Workflow(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(min_length=1, max_length=500)
    trigger: str = Field(min_length=1, max_length=200)
    steps: list[WorkflowStep] = Field(min_length=2, max_length=30)


SYSTEM = "You design business workflows: clear steps, each done by one actor."


async def run(ctx: JobContext, params: WorkflowParams) -> dict[str, Any]:
    await ctx.progress(0, "Analyzing the requirements…", "analyze")
    with ctx.usage.timed("analyze"):
        analysis = await ctx.checkpoint_model(
            "analyze",
            Analysis,
            lambda: ctx.llm.json(
                ask(SYSTEM, f"Analyze these requirements:\n{params.requirements}"),
                Analysis,
                stage="analyze",
                tier="small",
            ),
        )
    await ctx.progress(30, "Generating the workflow…", "generate")
    spec = schema_of(Workflow)
    messages = ask(
        SYSTEM,
        f"Requirements:\n{params.requirements}\n\nAnalysis:\n{analysis.model_dump_json()}\n\n"
        "Write the complete workflow, its steps in the order they run.",
    )
    with ctx.usage.timed("generate"):
        draft = await ctx.checkpoint(
            "generate",
            lambda: ctx.llm.stream_text(messages, stage="generate", tier="large", schema=spec),
        )
    await ctx.progress(90, "Validating the workflow…", "validate")
    with ctx.usage.timed("validate"):
        workflow = await ctx.llm.checked(draft, spec, messages, stage="validate", tier="large")
    return {"analysis": analysis.model_dump(), "workflow": _linked(workflow)}


def _linked(workflow: Workflow) -> dict[str, Any]:
    """The workflow with step ids and `next` links a frontend can draw."""
    steps = [{"id": f"step-{n}", **step.model_dump()} for n, step in enumerate(workflow.steps, 1)]
    for step, following in zip(steps, [*steps[1:], None], strict=True):
        step["next"] = [following["id"]] if following else []
    data = workflow.model_dump()
    data["steps"] = steps
    return data


register(
    JobType(
        name="generate_workflow",
        title="Generate a workflow",
        description="Requirements → analysis (small model) → workflow JSON (large model, "
        "streamed) → schema check with one repair pass.",
        params=WorkflowParams,
        run=run,
        time_limit=600,
    )
)
