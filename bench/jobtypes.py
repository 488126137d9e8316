"""`bench_noop`: a job type that does nothing, loaded with JOBCAST_JOB_MODULES=bench.jobtypes.

S2 and S3 measure the path around a job (HTTP, database, queue, events), not a pipeline.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from actors.registry import JobType, register


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


async def run(ctx: Any, params: NoParams) -> dict[str, Any]:
    return {}


register(
    JobType(
        name="bench_noop",
        title="No-op (benchmarks)",
        description="Does nothing: for measuring the path around a job.",
        params=NoParams,
        run=run,
        time_limit=60,
    )
)
