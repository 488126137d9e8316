"""Every Redis key and channel name jobcast uses, in one place.

All names start with the configured namespace, so several deployments (or test runs)
can share one Redis without seeing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

# The Dramatiq queues of the run_job actors, one per priority level (actors/worker/run.py):
# `priority` above 0 goes to QUEUE_HIGH, 0 to QUEUE, below 0 to QUEUE_LOW. A worker
# consumes all three. Names inside the broker's namespace (see `dramatiq_queue`).
QUEUE_HIGH, QUEUE, QUEUE_LOW = "jobs-high", "jobs", "jobs-low"
QUEUES = (QUEUE_HIGH, QUEUE, QUEUE_LOW)


@dataclass(frozen=True)
class Keys:
    namespace: str

    def seq(self, job_id: str) -> str:
        """Counter holding the last event number of a job."""
        return f"{self.namespace}:job:{job_id}:seq"

    def log(self, job_id: str) -> str:
        """Bounded list of the job's recent events, oldest first, for resume and gap-fill."""
        return f"{self.namespace}:job:{job_id}:log"

    def view(self, job_id: str) -> str:
        """Hash with the job's live fields (JSON-encoded values), as of the last event."""
        return f"{self.namespace}:job:{job_id}:view"

    def output(self, job_id: str) -> str:
        """String with the text streamed so far by the current step."""
        return f"{self.namespace}:job:{job_id}:output"

    def channel(self, job_id: str) -> str:
        """Pub/sub channel carrying the job's events."""
        return f"{self.namespace}:events:{job_id}"

    @property
    def channel_pattern(self) -> str:
        """Pattern matching every job's channel: one subscription per web process."""
        return f"{self.namespace}:events:*"

    def job_id_of_channel(self, channel: str) -> str:
        return channel.rsplit(":", 1)[1]

    @property
    def workers(self) -> str:
        """Sorted set of worker process ids scored by their last heartbeat (unix time)."""
        return f"{self.namespace}:workers"

    @property
    def duplicate_deliveries(self) -> str:
        """Counter of `run_job` messages that found their job already claimed or finished."""
        return f"{self.namespace}:stats:duplicate_deliveries"

    @property
    def status_changes(self) -> str:
        """Hash of status → how many `status` events have been published with it."""
        return f"{self.namespace}:stats:status_changes"

    @property
    def dramatiq_namespace(self) -> str:
        """Prefix of the broker's own keys."""
        return f"{self.namespace}-dramatiq"

    def dramatiq_queue(self, queue_name: str) -> str:
        """The broker's list of message ids waiting on a queue (Dramatiq's naming)."""
        return f"{self.dramatiq_namespace}:{queue_name}"

    def enqueued(self, job_id: str) -> str:
        """Set while a `run_job` message for the job is on its way (see store/enqueued.py)."""
        return f"{self.namespace}:job:{job_id}:enqueued"

    @property
    def cancel_channel(self) -> str:
        """Pub/sub channel on which cancelled job ids reach every worker."""
        return f"{self.namespace}:cancel"

    @property
    def wake_channel(self) -> str:
        """Pub/sub channel on which the name of a queue that was just sent a message
        reaches every worker (actors/worker/wakeup.py)."""
        return f"{self.namespace}:wake"

    def lock(self, name: str) -> str:
        """A short-lived lock that lets one worker at a time do a periodic chore."""
        return f"{self.namespace}:lock:{name}"

    @property
    def api_keys_version(self) -> str:
        """Random token replaced whenever a stored API key is created or revoked.

        Web processes cache verified keys only while it holds the value they saw.
        """
        return f"{self.namespace}:apikeys:version"

    def submit_bucket(self, owner: str) -> str:
        """Hash with an owner's submission token bucket (`tokens`, `at` in ms)."""
        return f"{self.namespace}:owner:{owner}:submit"

    def ws_leases(self, owner: str) -> str:
        """Sorted set of an owner's open WebSocket connections, scored by lease expiry (ms)."""
        return f"{self.namespace}:owner:{owner}:ws"

    def model_calls(self, provider: str, model: str) -> str:
        """Sorted set of a model's recent calls (ids scored by their start, ms), shared by
        every worker for its rpm/tpm limits (actors/pipeline/capacity.py)."""
        return f"{self.namespace}:capacity:{provider}:{model}:calls"

    def model_tokens(self, provider: str, model: str) -> str:
        """Hash of the same calls' tokens: reserved at the start, settled at the end."""
        return f"{self.namespace}:capacity:{provider}:{model}:tokens"

    def model_pause(self, provider: str, model: str) -> str:
        """Set, with the server's Retry-After as its TTL, while a model answers 429."""
        return f"{self.namespace}:capacity:{provider}:{model}:pause"

    def spend(self, owner: str, period: str) -> str:
        """Float counter of an owner's spend (USD) in the budget period starting `period`."""
        return f"{self.namespace}:owner:{owner}:spend:{period}"

    @property
    def fair_prefix(self) -> str:
        """Prefix of the fair-share keys (store/fairshare.py): `…pending:<owner>` is a
        sorted set of the owner's waiting jobs, `…running:<owner>` of its running slots
        scored by their expiry (ms)."""
        return f"{self.namespace}:fair:"

    def fair_running(self, owner: str) -> str:
        return f"{self.fair_prefix}running:{owner}"

    @property
    def fair_owners(self) -> str:
        """Set of owners with waiting jobs."""
        return f"{self.fair_prefix}owners"

    @property
    def fair_order(self) -> str:
        """Counter giving waiting jobs their submission order."""
        return f"{self.fair_prefix}order"

    @property
    def fair_tags(self) -> str:
        """Hash of owner → finish tag (start-time fair queueing)."""
        return f"{self.fair_prefix}tags"

    @property
    def fair_vtime(self) -> str:
        """The virtual time: the start tag of the last job picked."""
        return f"{self.fair_prefix}vtime"

    def job_keys(self, job_id: str) -> list[str]:
        return [self.seq(job_id), self.log(job_id), self.view(job_id), self.output(job_id)]
