"""Load generators: each runs as a process of its own, apart from the servers it loads."""
