"""The job lifecycle: the only code that changes a job's status.

Every status change takes the row's lock, checks the transition table, publishes the
`status` event (which assigns its seq) and commits the row with that seq, in one
place. Terminal events are therefore written once, whoever races to write them.

    pending | retrying ──claim──▶ running            (a new attempt; +1 attempts)
    running ──complete──▶ completed
    running ──end_attempt | recover | abandon──▶ retrying   (transient, attempts left)
                                   └──▶ failed      (permanent, or none left)
    running ──hand_back──▶ retrying                 (its worker is shutting down)
    pending | running | retrying ──cancel──▶ cancelled
    failed | cancelled ──reopen──▶ pending          (a retry through the API)
    completed ──reopen──▶ pending                   (only with `result.failed_items`:
                                                     a retry of the failed items)

Each change also sets the job's `message` to say what is happening ("Queued",
"Completed", …; a running pipeline's progress replaces it), carries it in the `status`
event, and, once committed, writes one log line (store/job_log.py).
"""

from store.jobs.base import CANCELLED, COMPLETED, QUEUED, STARTED
from store.jobs.batched import Completion, claim_many, complete_many, group_commit
from store.jobs.rows import create, create_many, delete, failed_items, get, save_progress
from store.jobs.transitions import (
    abandon,
    cancel,
    claim,
    complete,
    end_attempt,
    fail,
    hand_back,
    recover,
    reopen,
)

__all__ = [
    "CANCELLED",
    "COMPLETED",
    "QUEUED",
    "STARTED",
    "Completion",
    "abandon",
    "cancel",
    "claim",
    "claim_many",
    "complete",
    "complete_many",
    "create",
    "create_many",
    "delete",
    "end_attempt",
    "fail",
    "failed_items",
    "get",
    "group_commit",
    "hand_back",
    "recover",
    "reopen",
    "save_progress",
]
