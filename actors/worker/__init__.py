"""The worker process: the run_job actor, how it runs an attempt, and the chores
that keep a worker process honest (leases, heartbeats, cancel watch, wake-ups, shutdown)."""
