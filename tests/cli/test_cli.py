"""The `jobcast` console script, run as a user runs it, against a running stack."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

from tests.client import get_job, submit
from tests.stack import Stack

JOBCAST = str(Path(sys.executable).parent / "jobcast")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def jobcast(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JOBCAST_")}
    return subprocess.run(
        [JOBCAST, *args], env={**clean, **(env or {})}, capture_output=True, text=True, timeout=60
    )


def test_submit_watch_prints_progress_and_the_answer_and_exits_0(stack: Stack) -> None:
    done = jobcast("--url", stack.base_url, "submit", "chat", "prompt=Describe a pier", "--watch")
    assert done.returncode == 0, done.stderr
    job_id = re.search(r"submitted chat job (\w+)", done.stderr)
    assert job_id, done.stderr
    job = get_job(stack, job_id[1])
    assert done.stdout == job["result"]["text"] + "\n"  # the streamed answer, once
    assert "[  5 %] running  answer · Asking the model…" in done.stderr
    assert "[100 %] completed" in done.stderr
    assert re.search(r"completed \(.*provider simulated\)", done.stderr)


def test_a_failing_job_exits_non_zero_with_the_error(slow_stack: Stack) -> None:
    # A one-second time limit on a model that needs several: the job fails with `timeout`.
    args = ["submit", "chat", "prompt=Describe the foghorn", "--time-limit", "1", "--watch"]
    failed = jobcast("--url", slow_stack.base_url, *args)
    assert failed.returncode == 1, failed.stderr
    assert "failed: timeout: the job ran past its time limit of 1 s" in failed.stderr


def test_url_and_key_come_from_the_environment(stack: Stack) -> None:
    env = {"JOBCAST_URL": stack.base_url, "JOBCAST_KEY": "key-1"}
    # A server without keys ignores the Bearer header and the WebSocket subprotocol.
    done = jobcast("submit", "chat", "prompt=hello", "-w", env=env)
    assert done.returncode == 0, done.stderr
    listed = jobcast("jobs", "--limit", "3", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == [
        "ID", "TYPE", "STATUS", "PROGRESS", "CREATED", "MESSAGE",
    ]  # fmt: skip
    unreachable = jobcast("jobs", env={"JOBCAST_URL": "http://127.0.0.1:9"})
    assert unreachable.returncode == 1
    assert "cannot reach http://127.0.0.1:9" in unreachable.stderr


def test_mistakes_are_one_clear_line(stack: Stack) -> None:
    unknown = jobcast("--url", stack.base_url, "submit", "nope", "prompt=x")
    assert unknown.returncode == 1
    assert "422 unknown_type" in unknown.stderr and "known types: chat" in unknown.stderr
    bad_pair = jobcast("--url", stack.base_url, "submit", "chat", "prompt")
    assert bad_pair.returncode == 2
    assert "params are key=value" in bad_pair.stderr
    missing = jobcast("--url", stack.base_url, "watch", "no-such-job")
    assert missing.returncode == 1
    assert "no such job" in missing.stderr


def test_cancel_and_retry(slow_stack: Stack) -> None:
    job_id = submit(slow_stack, "Describe the night watch")
    cancelled = jobcast("--url", slow_stack.base_url, "cancel", job_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout.split()[0] == job_id
    watched = jobcast("--url", slow_stack.base_url, "watch", job_id)
    assert watched.returncode == 1
    assert "cancelled" in watched.stderr
    again = jobcast("--url", slow_stack.base_url, "cancel", job_id)
    assert again.returncode == 1 and "409" in again.stderr
    retried = jobcast("--url", slow_stack.base_url, "retry", job_id)
    assert retried.returncode == 0, retried.stderr


def test_watch_on_a_terminal_draws_a_progress_bar(stack: Stack) -> None:
    job_id = submit(stack, "Describe a breakwater")
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    clean = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        [JOBCAST, "--url", stack.base_url, "watch", job_id],
        stdin=subprocess.DEVNULL, stdout=child, stderr=child, env=clean,
    )  # fmt: skip
    os.close(child)
    screen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # EIO: the other end closed
            break
        if not chunk:
            break
        screen += chunk
    os.close(main)
    assert process.wait(timeout=30) == 0
    text = ANSI.sub("", screen.decode())
    assert "█" * 24 in text and "100 %" in text
    answer = get_job(stack, job_id)["result"]["text"]
    assert answer.split()[-1] in text
    assert text.rstrip().splitlines()[-1].startswith("completed (")
