"""Job states and the transitions allowed between them."""

from __future__ import annotations

from enum import StrEnum

from store.errors import IllegalTransition


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})

# Every legal move. A retry requested through the API re-opens a failed or cancelled
# job as `pending` (a new, visible attempt), and a completed one whose result lists
# failed items (store/jobs/ `reopen` checks that; its next attempt runs those items
# only); nothing else leaves a terminal state.
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.PENDING: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.FAILED}),
    JobStatus.RUNNING: frozenset(
        {JobStatus.RETRYING, JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED}
    ),
    JobStatus.RETRYING: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.FAILED}),
    JobStatus.COMPLETED: frozenset({JobStatus.PENDING}),
    JobStatus.FAILED: frozenset({JobStatus.PENDING}),
    JobStatus.CANCELLED: frozenset({JobStatus.PENDING}),
}


def check_transition(job_id: str, current: JobStatus, wanted: JobStatus) -> None:
    if wanted not in TRANSITIONS[current]:
        raise IllegalTransition(job_id, current, wanted)
