"""The toolkit a job type's pipeline works with: the JobContext and what it fronts
(model calls, structured output, fan-out, streamed output, usage)."""
