"""What the web's access layer keeps in the database: API keys, Idempotency-Keys,
per-owner quotas, listing cursors, and the one function that submits a job."""
