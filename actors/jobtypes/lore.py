"""`generate_lore`: characters, factions, settings, events, relics or worlds for a theme.

A brief of the theme first (0 → 20), then every item in parallel through its kind's
stages, one model call each (20 → 90, one step per item and stage: "Generated
backstories…"), then 90 "Finalizing…". Later stages see what earlier ones produced.
The brief and each item's stages are checkpointed: a new attempt resumes at the first
stage that had not finished.

Each kind is also a job type of its own, with the kind fixed: `generate_characters`,
`generate_factions`, `generate_settings`, `generate_events`, `generate_relics` and
`create_world` (the names the seed systems submit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from actors.pipeline.context import JobContext
from actors.pipeline.fanout import ItemProgress
from actors.pipeline.prompts import ask
from actors.registry import JobType, register

Kind = Literal["characters", "factions", "settings", "events", "relics", "worlds"]
SINGULAR = {
    "characters": "character",
    "factions": "faction",
    "settings": "setting",
    "events": "event",
    "relics": "relic",
    "worlds": "world",
}


class LoreParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind = Field(description="What to create")
    theme: str = Field(min_length=1, max_length=500, description="The world or genre")
    count: int = Field(default=3, ge=1, le=10, description="How many items, generated in parallel")


class Name(BaseModel):
    name: str = Field(min_length=1, max_length=80)


class Traits(BaseModel):
    traits: list[str] = Field(min_length=3, max_length=5)


class Skill(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    level: int = Field(ge=1, le=10)


class Skills(BaseModel):
    skills: list[Skill] = Field(min_length=3, max_length=5)


class Stats(BaseModel):
    strength: int = Field(ge=1, le=20)
    dexterity: int = Field(ge=1, le=20)
    constitution: int = Field(ge=1, le=20)
    intelligence: int = Field(ge=1, le=20)
    wisdom: int = Field(ge=1, le=20)
    charisma: int = Field(ge=1, le=20)


class Place(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    description: str = Field(min_length=1, max_length=600)


class Regions(BaseModel):
    regions: list[Place] = Field(min_length=2, max_length=5)


class Factions(BaseModel):
    factions: list[Place] = Field(min_length=2, max_length=5)


@dataclass(frozen=True)
class Stage:
    name: str  # the item's field, and the progress stage
    done: str  # what has been generated, for the progress message
    ask: str
    schema: type[BaseModel] | None = None  # a structured answer; prose when None


NAME = Stage("name", "names", "Give it a fitting, original name.", Name)
SUMMARY = Stage("summary", "summaries", "Sum it up in two sentences.")
DESCRIPTION = Stage("description", "descriptions", "Describe it in three or four sentences.")
HISTORY = Stage("history", "histories", "Tell its history in three or four sentences.")
APPEARANCE = Stage("appearance", "appearances", "Describe how it looks in three sentences.")
STAGES: dict[str, tuple[Stage, ...]] = {
    "characters": (
        NAME,
        APPEARANCE,
        Stage("backstory", "backstories", "Write a backstory of four or five sentences."),
        Stage("traits", "traits", "List three to five personality traits.", Traits),
        Stage("skills", "skills", "List three to five skills with a level from 1 to 10.", Skills),
        Stage("stats", "stats", "Give ability scores from 1 to 20.", Stats),
    ),
    "settings": (
        NAME,
        Stage("landscape", "landscapes", "Describe its landscape in three sentences."),
        Stage("culture", "cultures", "Describe the culture of its people in three sentences."),
        HISTORY,
        Stage("economy", "economies", "Describe its economy in three sentences."),
        SUMMARY,
    ),
    "factions": (
        NAME,
        Stage("ideology", "ideologies", "Describe what it believes and wants."),
        APPEARANCE,
        SUMMARY,
    ),
    "events": (NAME, DESCRIPTION, Stage("impact", "impacts", "Describe its consequences.")),
    "relics": (NAME, DESCRIPTION, HISTORY),
    "worlds": (
        NAME,
        Stage("regions", "regions", "List two to five regions, each with a description.", Regions),
        Stage("factions", "factions", "List two to five factions that vie in it.", Factions),
        HISTORY,
    ),
}


async def run(ctx: JobContext, params: LoreParams) -> dict[str, Any]:
    stages = STAGES[params.kind]
    one = SINGULAR[params.kind]
    await ctx.progress(0, f"Sketching the world of “{params.theme[:60]}”…", "brief")
    brief = await ctx.checkpoint(
        "brief",
        lambda: ctx.llm.text(
            ask(
                "You are a worldbuilding writer. Be concrete and consistent.",
                f"Write a short brief (five sentences) of a world with this theme: {params.theme}",
            ),
            stage="brief",
            tier="small",
        ),
    )
    await ctx.progress(20, f"Generating {params.count} {params.kind}…", stages[0].name)

    async def item(index: int, progress: ItemProgress) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for stage in stages:
            fields[stage.name] = await ctx.checkpoint(
                f"{stage.name}/{index}",
                partial(_generate, ctx, params, brief, index, dict(fields), stage),
            )
            await progress.step_done(f"Generated {stage.done}…", stage.name)
        return fields

    done = await ctx.fan_out(
        range(params.count),
        item,
        span=(20, 90),
        steps=len(stages),
        label=lambda index, _: f"{one} {index + 1}",
    )
    await ctx.progress(90, "Finalizing…", "finalize")
    return {
        "kind": params.kind,
        "theme": params.theme,
        "brief": brief.strip(),
        "items": done.succeeded,
        "failed_items": done.failed,
    }


async def _generate(
    ctx: JobContext,
    params: LoreParams,
    brief: str,
    index: int,
    so_far: dict[str, Any],
    stage: Stage,
) -> Any:
    one = SINGULAR[params.kind]
    messages = ask(
        f"You are a worldbuilding writer. The world: {brief}",
        f"We are creating {one} {index + 1} of {params.count} for the theme “{params.theme}”. "
        f"What we have so far: {json.dumps(so_far, ensure_ascii=False)}\n{stage.ask}",
    )
    if stage.schema is None:
        return (await ctx.llm.text(messages, stage=stage.name)).strip()
    value = (await ctx.llm.json(messages, stage.schema, stage=stage.name)).model_dump()
    # A one-field answer ({"name": …}) is that field's value; ability scores stay an object.
    return value[stage.name] if set(value) == {stage.name} else value


register(
    JobType(
        name="generate_lore",
        title="Generate lore",
        description="Characters, factions, settings, events, relics or worlds for a theme, "
        "each item through its own stages, in parallel.",
        params=LoreParams,
        run=run,
        time_limit=900,
    )
)


# The kinds as job types of their own: the seed systems' names, `kind` fixed by the name.
ALIASES: dict[str, tuple[Kind, str]] = {
    "generate_characters": ("characters", "Generate characters"),
    "generate_factions": ("factions", "Generate factions"),
    "generate_settings": ("settings", "Generate settings"),
    "generate_events": ("events", "Generate events"),
    "generate_relics": ("relics", "Generate relics"),
    "create_world": ("worlds", "Create a world"),
}


def _alias_params(kind: Kind) -> type[BaseModel]:
    """LoreParams without `kind`; a world is one by default, the other kinds three."""
    default = 1 if kind == "worlds" else 3
    return create_model(
        f"{kind.capitalize()}Params",
        __config__=ConfigDict(extra="forbid"),
        theme=(str, Field(min_length=1, max_length=500, description="The world or genre")),
        count=(int, Field(default=default, ge=1, le=10, description="How many, in parallel")),
    )


def _alias_run(kind: Kind) -> Any:
    async def run_kind(ctx: JobContext, params: BaseModel) -> dict[str, Any]:
        return await run(ctx, LoreParams(kind=kind, **params.model_dump()))

    return run_kind


for _name, (_kind, _title) in ALIASES.items():
    register(
        JobType(
            name=_name,
            title=_title,
            description=f"`generate_lore` with kind `{_kind}`: "
            + ", ".join(stage.name for stage in STAGES[_kind])
            + f" for each {SINGULAR[_kind]}, in parallel.",
            params=_alias_params(_kind),
            run=_alias_run(_kind),
            time_limit=900,
        )
    )
