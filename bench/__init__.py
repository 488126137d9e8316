"""Benchmarks: each scenario beside its baseline, measured in the same run (`make bench`)."""
