"""`generate_backlog`: a project description → an epic → its stories → tasks per story.

"Generating Epic…" (0–30), then the stories one after another, each seeing the ones
before it so they do not overlap ("Generating Stories 2/5…", 30–60), then the tasks of
every story in parallel ("Generating Tasks for Story 3/5…", 60–100). Each level's end is
announced as the seed systems did: "Epic created: <title>" (30), "Stories created: 5
stories" (60), "Backlog generation complete" (100). The result is the
tree with its counts; a story whose tasks could not be made is listed in `failed_items`.
"""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from actors.pipeline.context import JobContext
from actors.pipeline.fanout import FanOutResult, ItemProgress
from actors.pipeline.prompts import ask
from actors.pipeline.results import Rows, save_rows
from actors.registry import JobType, register
from store.models import ResultBacklogItem

SYSTEM = "You are an experienced product owner who writes clear, small, testable work items."


class BacklogParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1, max_length=20_000, description="The project")
    stories: int = Field(default=5, ge=1, le=10, description="Stories in the epic")
    tasks_per_story: int = Field(default=3, ge=1, le=8, description="Tasks per story")


class Epic(BaseModel):
    title: str = Field(min_length=1, max_length=120)
    goal: str = Field(min_length=1, max_length=300)
    summary: str = Field(min_length=1, max_length=1000)


class Story(BaseModel):
    title: str = Field(min_length=1, max_length=120)
    description: str = Field(min_length=1, max_length=1000)
    acceptance_criteria: list[str] = Field(min_length=1, max_length=6)
    points: int = Field(ge=1, le=13)


class Task(BaseModel):
    title: str = Field(min_length=1, max_length=120)
    description: str = Field(min_length=1, max_length=600)
    estimate_hours: float = Field(ge=0.5, le=40)


class TaskList(BaseModel):
    tasks: list[Task]


@lru_cache(maxsize=8)
def task_list(size: int) -> type[TaskList]:
    return create_model(
        f"TaskListOf{size}",
        __base__=TaskList,
        tasks=(list[Task], Field(min_length=size, max_length=size)),
    )


async def run(ctx: JobContext, params: BacklogParams) -> dict[str, Any]:
    await ctx.progress(0, "Generating Epic…", "epic")
    project = f"Project:\n{params.description}"
    epic = await ctx.checkpoint_model(
        "epic",
        Epic,
        lambda: ctx.llm.json(ask(SYSTEM, f"{project}\n\nWrite its epic."), Epic, stage="epic"),
    )
    await ctx.progress(30, f"Epic created: {epic.title}", "epic")
    stories = await _stories(ctx, params, project, epic)
    await ctx.progress(
        60, f"Stories created: {_plural(len(stories), 'story', 'stories')}", "stories"
    )
    done = await _tasks(ctx, params, project, epic, stories)
    await ctx.progress(100, "Backlog generation complete", "tasks")
    tree = [
        {**story.model_dump(), "tasks": done.results.get(index, [])}
        for index, story in enumerate(stories)
    ]
    return {
        "epic": {**epic.model_dump(), "stories": tree},
        "counts": {
            "stories": len(stories),
            "tasks": sum(len(story["tasks"]) for story in tree),
            "points": sum(story.points for story in stories),
        },
        "failed_items": done.failed,
    }


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


async def _stories(ctx: JobContext, params: BacklogParams, project: str, epic: Epic) -> list[Story]:
    stories: list[Story] = []
    for number in range(1, params.stories + 1):
        progress = 30 + 30 * (number - 1) / params.stories
        await ctx.progress(progress, f"Generating Stories {number}/{params.stories}…", "stories")
        written = "\n".join(f"- {s.title}" for s in stories) or "(none yet)"
        asked = ask(
            SYSTEM,
            f"{project}\n\nEpic: {epic.model_dump_json()}\nStories so far:\n{written}\n\n"
            f"Write user story {number} of {params.stories}, different from those above.",
        )
        story = await ctx.checkpoint_model(
            f"story/{number}", Story, partial(ctx.llm.json, asked, Story, stage="stories")
        )
        stories.append(story)
    return stories


async def _tasks(
    ctx: JobContext, params: BacklogParams, project: str, epic: Epic, stories: list[Story]
) -> FanOutResult[list[dict[str, Any]]]:
    total = len(stories)

    async def tasks_of(numbered: tuple[int, Story], progress: ItemProgress) -> list[dict[str, Any]]:
        number, story = numbered
        await progress.note(f"Generating Tasks for Story {number}/{total}…", "tasks")
        answer = await ctx.llm.json(
            ask(
                SYSTEM,
                f"{project}\n\nEpic: {epic.title}\nStory: {story.model_dump_json()}\n\n"
                f"Break this story into {params.tasks_per_story} tasks.",
            ),
            task_list(params.tasks_per_story),
            stage="tasks",
        )
        await progress.step_done(f"Generated Tasks for Story {number}/{total}", "tasks")
        return [task.model_dump() for task in answer.tasks]

    return await ctx.fan_out(
        list(enumerate(stories, 1)),
        tasks_of,
        span=(60, 100),
        label=lambda _, numbered: f"Story {numbered[0]}/{total}",
        checkpoint="tasks",
    )


def backlog_rows(job_id: str, result: dict[str, Any]) -> Rows:
    """The epic, its stories and their tasks as `result_backlog_item` rows, with ids
    ("epic", "story-2", "story-2/task-1") that name the same item on every attempt."""
    epic = dict(result["epic"])
    stories = epic.pop("stories")
    rows = [_item(job_id, "epic", "epic", None, epic)]
    for number, story in enumerate(stories, 1):
        story = dict(story)
        story_id = f"story-{number}"
        for count, task in enumerate(story.pop("tasks"), 1):
            rows.append(_item(job_id, f"{story_id}/task-{count}", "task", story_id, task))
        rows.append(_item(job_id, story_id, "story", "epic", story))
    return rows


def _item(
    job_id: str, item_id: str, kind: str, parent_id: str | None, fields: dict[str, Any]
) -> dict[str, Any]:
    details = {k: v for k, v in fields.items() if k != "title"}
    return {"job_id": job_id, "item_id": item_id, "kind": kind, "parent_id": parent_id,
            "title": fields["title"], "details": details}  # fmt: skip


register(
    JobType(
        name="generate_backlog",
        title="Generate a backlog",
        description="A project description → an epic → stories → tasks per story.",
        params=BacklogParams,
        run=run,
        time_limit=900,
        save=save_rows(ResultBacklogItem, backlog_rows),
    )
)
