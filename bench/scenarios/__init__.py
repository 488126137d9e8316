"""S1–S7 of issue #7, one module each; every `run(env, sizes)` returns a `Result`."""
