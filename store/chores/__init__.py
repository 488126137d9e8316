"""Background chores the workers run: the reconciler, retention, and the locks
that let one process at a time run each."""
