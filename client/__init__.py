"""A Python client for the jobcast API and the `jobcast` command line."""
