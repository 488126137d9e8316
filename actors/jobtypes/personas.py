"""`generate_personas`: up to 500 social-media personas, in batches of at most 20.

Batches run in parallel (JOBCAST_LLM_CONCURRENCY at once), each one model call whose
JSON must hold exactly that batch's number of personas; progress moves one step per
batch ("Generated batch 3/25…"). A failed batch does not stop the others: the job
completes with what the other batches made and lists the failed ones in
`result.failed_items` (index, label, the personas it was to make, the error). When
every batch fails, the job fails. Each finished batch is checkpointed: a new attempt, or
a retry of the failed batches through the API, makes only the missing batches.
How names and each platform's bio are asked for comes from settings
(JOBCAST_PERSONA_NAME_PROMPT, JOBCAST_PERSONA_BIO_PROMPTS).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from actors.pipeline.context import JobContext
from actors.pipeline.fanout import ItemProgress
from actors.pipeline.prompts import ask
from actors.pipeline.results import Rows, save_rows
from actors.registry import JobType, register
from store.models import ResultPersona
from store.settings import Settings, get_settings

BATCH_SIZE = 20
MAX_PERSONAS = 500


class PersonasParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=10, ge=1, le=MAX_PERSONAS, description="How many personas")
    audience: str = Field(
        default="people who are active on social media",
        min_length=1,
        max_length=300,
        description="Who the personas are",
    )


class Bios(BaseModel):
    """One bio per platform, within each platform's own length limit."""

    facebook: str = Field(min_length=1, max_length=255)
    instagram: str = Field(min_length=1, max_length=150)
    x: str = Field(min_length=1, max_length=160)
    tiktok: str = Field(min_length=1, max_length=80)


BIO_PROMPTS = {
    "facebook": "a friendly paragraph about their life and interests (at most 255 characters)",
    "instagram": "a short, visual line with an emoji or two (at most 150 characters)",
    "x": "a witty one-liner about what they post about (at most 160 characters)",
    "tiktok": "a punchy hook for their videos (at most 80 characters)",
}


class Persona(BaseModel):
    first_name: str = Field(min_length=1, max_length=40)
    last_name: str = Field(min_length=1, max_length=40)

    @model_validator(mode="before")
    @classmethod
    def _split_name(cls, data: Any) -> Any:
        """A model that answers one `name` (as this type once asked) is taken at its word:
        the last word is the last name."""
        if (
            isinstance(data, dict)
            and "first_name" not in data
            and isinstance(data.get("name"), str)
        ):
            first, _, last = data["name"].strip().rpartition(" ")
            return {**data, "first_name": first or last, "last_name": last if first else "-"}
        return data

    gender: Literal["female", "male", "non-binary"]
    bios: Bios


class PersonaBatch(BaseModel):
    personas: list[Persona]


@lru_cache(maxsize=BATCH_SIZE)
def batch_schema(size: int) -> type[PersonaBatch]:
    """A batch of exactly `size` personas: a model that returns fewer or more is asked again."""
    return create_model(
        f"PersonaBatchOf{size}",
        __base__=PersonaBatch,
        personas=(list[Persona], Field(min_length=size, max_length=size)),
    )


@dataclass(frozen=True)
class Batch:
    number: int  # 1-based
    first: int  # 1-based number of its first persona
    size: int

    @property
    def last(self) -> int:
        return self.first + self.size - 1


def batches(count: int) -> list[Batch]:
    return [
        Batch(n + 1, start + 1, min(BATCH_SIZE, count - start))
        for n, start in enumerate(range(0, count, BATCH_SIZE))
    ]


def batch_prompt(settings: Settings, params: PersonasParams, batch: Batch) -> str:
    """The batch's request: who, how to name them, and each platform's bio instruction."""
    bios = {**BIO_PROMPTS, **settings.persona_bio_prompts}
    platforms = "\n".join(f"- {platform}: {bios[platform]}" for platform in BIO_PROMPTS)
    return (
        f"Write {batch.size} distinct personas (numbers {batch.first}–{batch.last} "
        f"of {params.count}) of {params.audience}. {settings.persona_name_prompt}\n"
        f"Give each a bio per platform:\n{platforms}"
    )


async def run(ctx: JobContext, params: PersonasParams) -> dict[str, Any]:
    plan = batches(params.count)
    total = len(plan)
    await ctx.progress(0, f"Generating {params.count} personas in {total} batches…", "personas")

    async def one_batch(batch: Batch, progress: ItemProgress) -> list[dict[str, Any]]:
        answer = await ctx.llm.json(
            ask(
                "You write realistic, diverse social-media personas.",
                batch_prompt(get_settings(), params, batch),
            ),
            batch_schema(batch.size),
            stage="personas",
        )
        await progress.step_done(f"Generated batch {batch.number}/{total}…", "personas")
        return [
            {
                "id": batch.first + offset,
                "batch": batch.number,
                "name": f"{persona.first_name} {persona.last_name}",
                **persona.model_dump(),
            }
            for offset, persona in enumerate(answer.personas)
        ]

    done = await ctx.fan_out(
        plan,
        one_batch,
        span=(2, 98),
        label=lambda _, b: f"batch {b.number}/{total}",
        checkpoint="batch",  # a retry of the failed batches reuses the others
    )
    for failure in done.failed:
        batch = plan[failure["index"]]
        failure["personas"] = [batch.first, batch.last]
    personas = [persona for part in done.succeeded for persona in part]
    await ctx.progress(98, f"Finalizing {len(personas)} personas…", "finalize")
    return {
        "personas": personas,
        "count": len(personas),
        "requested": params.count,
        "batches": total,
        "failed_items": done.failed,
    }


def persona_rows(job_id: str, result: dict[str, Any]) -> Rows:
    """One `result_persona` row per persona, keyed by the job and the persona's number."""
    return [
        {"job_id": job_id, "persona_id": p["id"], "name": p["name"], "gender": p["gender"],
         "bios": p["bios"]}
        for p in result["personas"]
    ]  # fmt: skip


register(
    JobType(
        name="generate_personas",
        title="Generate personas",
        description="Up to 500 personas with a first and last name, gender and a bio per platform "
        "(facebook, instagram, x, tiktok), in parallel batches of at most 20.",
        params=PersonasParams,
        run=run,
        time_limit=1800,
        save=save_rows(ResultPersona, persona_rows),
    )
)
