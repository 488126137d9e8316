"""Shared state: settings, the jobs table, the job lifecycle and the event channel."""
