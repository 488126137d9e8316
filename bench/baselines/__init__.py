"""The baselines: the least a scenario's path could cost, served the same way."""
