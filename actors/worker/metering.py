"""The meter of an attempt (actors/pipeline/meter.py), charged to the job's owner."""

from __future__ import annotations

from actors.pipeline.context import JobContext
from actors.pipeline.meter import Account, Limit, Meter
from actors.worker.runtime import Runtime
from store.models import Job
from store.reporter import Reporter
from store.spend import LiveSpend
from store.usage import combined


def meter_for(rt: Runtime, job: Job, ctx: JobContext, reporter: Reporter) -> Meter:
    """Ledger every call of the attempt; stop it at the owner's budget, if there is one."""
    account = Account(job.owner, job.id, job.type, ctx.usage.provider)
    budget = rt.budgets.of(job.owner)
    limit = None
    if budget is not None:
        limit = Limit(budget, LiveSpend(rt.events().redis, rt.backends.keys))
    earlier = dict(job.usage or {})  # what earlier attempts of the job used

    def publish_usage() -> None:
        # The live view shows the job's usage over all attempts, as the row will.
        reporter.usage(combined(earlier, ctx.usage.as_json()))

    return Meter(rt.backends, account, rt.llm.prices, limit, publish_usage)
