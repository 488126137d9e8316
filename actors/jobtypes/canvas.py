"""`create_canvas`: a drawing request → canvas objects a frontend can draw as they are.

*parse* (0–60): the model answers with JSON for a schema bounded by the canvas (the
answer streams to clients; an invalid one is sent back once with the validation error);
*validate* (60–85): objects are fitted to the canvas (clipped at its edges; empty or
invisible ones dropped); *save* (85–100): ids and stacking order, and the result.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from actors.pipeline.context import JobContext
from actors.pipeline.prompts import ask
from actors.pipeline.results import Rows, save_rows
from actors.registry import JobType, register
from store.models import ResultCanvasObject

KINDS = ["rect", "ellipse", "line", "arrow", "text"]
PALETTE = [
    "#111827", "#6b7280", "#ffffff", "#ef4444", "#f97316", "#eab308",
    "#22c55e", "#06b6d4", "#3b82f6", "#8b5cf6", "#ec4899", "#92400e",
]  # fmt: skip


class CanvasParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request: str = Field(min_length=1, max_length=5000, description="What to draw")
    width: int = Field(default=800, ge=100, le=4000, description="Canvas width in pixels")
    height: int = Field(default=600, ge=100, le=4000, description="Canvas height in pixels")
    max_objects: int = Field(default=12, ge=1, le=50, description="At most this many objects")


class CanvasObject(BaseModel):
    kind: str
    x: int
    y: int
    w: int
    h: int
    text: str
    color: str


def drawing_schema(params: CanvasParams) -> dict[str, Any]:
    """The JSON Schema of the model's answer, bounded by this canvas."""

    def within(limit: int) -> dict[str, Any]:
        return {"type": "integer", "minimum": 0, "maximum": limit}  # whole pixels

    canvas_object = {
        "type": "object",
        "properties": {
            "kind": {"enum": KINDS},
            "x": within(params.width),
            "y": within(params.height),
            "w": within(params.width),
            "h": within(params.height),
            "text": {"type": "string", "maxLength": 200},
            "color": {"enum": PALETTE},
        },
        "required": ["kind", "x", "y", "w", "h", "text", "color"],
        "additionalProperties": False,
    }
    return {
        "title": "drawing",
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 80},
            "objects": {
                "type": "array",
                "items": canvas_object,
                "minItems": 1,
                "maxItems": params.max_objects,
            },
        },
        "required": ["title", "objects"],
        "additionalProperties": False,
    }


async def run(ctx: JobContext, params: CanvasParams) -> dict[str, Any]:
    await ctx.progress(0, "Reading the drawing request…", "parse")
    drawing = await ctx.llm.json(
        ask(
            "You turn drawing requests into shapes on a canvas whose origin is the top left. "
            f"The canvas is {params.width}×{params.height} pixels. Lines and arrows go from "
            "(x, y) to (x + w, y + h); text is drawn in its box; shapes may carry a label.",
            params.request,
        ),
        drawing_schema(params),
        stage="parse",
        stream=True,
    )
    objects = drawing["objects"]
    await ctx.progress(60, f"Fitting {len(objects)} objects to the canvas…", "validate")
    fitted = [fit(obj, params.width, params.height) for obj in objects]
    kept = [obj for obj in fitted if obj is not None]
    await ctx.progress(85, f"Saving {len(kept)} objects…", "save")
    saved = [{"id": f"obj-{n}", "z": n, **obj} for n, obj in enumerate(kept, 1)]
    return {
        "title": drawing["title"],
        "width": params.width,
        "height": params.height,
        "objects": saved,
        "dropped": len(objects) - len(kept),
    }


def fit(obj: dict[str, Any], width: int, height: int) -> dict[str, Any] | None:
    """The object clipped to the canvas; None when nothing of it would show."""
    o = CanvasObject.model_validate(obj)
    w, h = min(o.w, width - o.x), min(o.h, height - o.y)
    if o.kind == "text" and not o.text.strip():
        return None
    if o.kind in ("rect", "ellipse", "text") and (w == 0 or h == 0):
        return None
    if o.kind in ("line", "arrow") and w == 0 and h == 0:
        return None
    return {**o.model_dump(), "w": w, "h": h}


def object_rows(job_id: str, result: dict[str, Any]) -> Rows:
    """One `result_canvas_object` row per object; the canvas id is the job id."""
    return [
        {"canvas_id": job_id, "object_id": obj["id"], **{k: v for k, v in obj.items() if k != "id"}}
        for obj in result["objects"]
    ]


register(
    JobType(
        name="create_canvas",
        title="Create a canvas",
        description="A drawing request → canvas objects (kind, x, y, w, h, text, color), "
        "checked against a schema bounded by the canvas.",
        params=CanvasParams,
        run=run,
        time_limit=300,
        save=save_rows(ResultCanvasObject, object_rows),
    )
)
