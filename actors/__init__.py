"""The worker side: `dramatiq actors` runs the job pipelines.

Importing this package does no I/O, so the web process imports it to enqueue: it builds
the broker (actors/broker.py; its Redis clients connect on first use), declares the
run_job actors on it and registers every job type, built-in and JOBCAST_JOB_MODULES.
A worker checks Redis and the database as it boots (actors/worker/preflight.py), the web
process in its lifespan (web/dependencies.py).

The web process imports only `JOB_TYPES` (with `JobType`, the type of its entries),
`send_job`, `send_jobs` (with `SEND_ERRORS`, what a failed send raises, Redis or
RabbitMQ), `QUEUES` and `queue_health` (RabbitMQ's state, for `/health`) from here,
never a submodule (tests/test_invariants.py holds it to that).
"""

from actors import jobtypes
from actors.broker import SEND_ERRORS, broker, queue_health
from actors.registry import JOB_TYPES, JobType
from actors.worker.job_modules import load as _load_job_modules
from actors.worker.run import run_job, send_job, send_jobs
from store.keys import QUEUES
from store.settings import get_settings

_load_job_modules(get_settings().job_module_names)

__all__ = [
    "JOB_TYPES",
    "QUEUES",
    "SEND_ERRORS",
    "JobType",
    "broker",
    "jobtypes",
    "queue_health",
    "run_job",
    "send_job",
    "send_jobs",
]
