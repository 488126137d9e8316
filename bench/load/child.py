"""Run a load generator as a child process and read its JSON lines."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from bench.env import ROOT
from bench.measure import cpu_seconds


class Child:
    """`python -m MODULE ARGS`; it speaks in lines: words like READY, and JSON objects."""

    def __init__(self, module: str, *args: str, wrap: Sequence[str] = ()) -> None:
        """`wrap`: a command prefix, e.g. `ip netns exec NS` to run it on a bed's host."""
        self.popen = subprocess.Popen(
            [*wrap, sys.executable, "-m", module, *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for raw in self.popen.stdout:
            self._lines.put(raw.decode().rstrip("\n"))
        self._lines.put(None)

    def line(self, timeout: float) -> str | None:
        """The next line, or None when the child has exited."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no word from the load generator in {timeout} s") from None
        if line is None:
            self._lines.put(None)
        return line

    def wait_for(self, word: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            line = self.line(max(0.1, deadline - time.monotonic()))
            if line is None:
                raise RuntimeError(f"load generator exited before {word}: {self._stderr()}")
            if line.startswith(word):
                return line

    def say(self, word: str) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(f"{word}\n".encode())
        self.popen.stdin.flush()

    def records(self, timeout: float) -> list[dict[str, Any]]:
        """Every JSON line until the child exits (it must exit within `timeout`)."""
        deadline = time.monotonic() + timeout
        found = []
        while (line := self.line(max(0.1, deadline - time.monotonic()))) is not None:
            if line.startswith("{"):
                found.append(json.loads(line))
        if self.popen.wait(timeout=10) != 0:
            raise RuntimeError(f"load generator failed: {self._stderr()}")
        return found

    def result(self, timeout: float) -> dict[str, Any]:
        records = self.records(timeout)
        if not records:
            raise RuntimeError(f"load generator printed no result: {self._stderr()}")
        return records[-1]

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()

    def _stderr(self) -> str:
        assert self.popen.stderr is not None
        if self.popen.poll() is None:
            return "(still running)"
        return self.popen.stderr.read().decode(errors="replace")[-3000:]
