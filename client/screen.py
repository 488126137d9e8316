"""How `jobcast watch` shows a job: the streamed output, and a progress line under it.

On a terminal the progress line is redrawn in place below the text as it streams.
Otherwise (a pipe, a file, CI) the text goes to stdout as it arrives and each change of
progress or status is one line on stderr, so `jobcast watch ID > answer.txt` keeps the
answer clean.
"""

from __future__ import annotations

import shutil
import time
import unicodedata
from typing import Any, TextIO

BAR_CELLS = 24
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def bar(progress: int, cells: int = BAR_CELLS) -> str:
    filled = round(cells * max(0, min(progress, 100)) / 100)
    return "█" * filled + "░" * (cells - filled)


def status_line(job: dict[str, Any], started: float) -> str:
    progress = int(job.get("progress") or 0)
    where = " · ".join(part for part in (job.get("stage"), job.get("message")) if part)
    seconds = time.monotonic() - started
    status = job.get("status", "…")
    return f"{status:<9} [{bar(progress)}] {progress:>3} %  {where}  {seconds:.1f} s"


class PlainScreen:
    """Text to `out` as it arrives; one line per change of progress or status to `err`."""

    def __init__(self, out: TextIO, err: TextIO) -> None:
        self.out = out
        self.err = err
        self.shown = ""
        self.last_line = ""
        self.started = time.monotonic()

    def update(self, job: dict[str, Any]) -> None:
        self._text(str(job.get("output") or ""))
        progress = int(job.get("progress") or 0)
        where = " · ".join(part for part in (job.get("stage"), job.get("message")) if part)
        line = f"[{progress:>3} %] {job.get('status', '…')}  {where}".rstrip()
        if line != self.last_line:
            self.last_line = line
            self._line(line)

    def _text(self, text: str) -> None:
        if text.startswith(self.shown):
            self.out.write(text[len(self.shown) :])
        else:  # a new stage or attempt starts its text again
            self.out.write(("\n" if self.shown else "") + text)
        self.out.flush()
        self.shown = text

    def _line(self, line: str) -> None:
        self.err.write(line + "\n")
        self.err.flush()

    def end_text(self) -> None:
        if self.shown and not self.shown.endswith("\n"):
            self.out.write("\n")
            self.out.flush()
            self.shown += "\n"

    def note(self, line: str) -> None:
        self.end_text()
        self._line(line)


class TtyScreen(PlainScreen):
    """Everything on one terminal: the text, and the progress line redrawn beneath it."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out, out)
        self.width = max(20, shutil.get_terminal_size().columns)
        self.column = 0  # where the text ends on its last row
        self.footer = False
        self.frame = 0

    def update(self, job: dict[str, Any]) -> None:
        self._clear_footer()
        text = str(job.get("output") or "").replace("\r", "").replace("\t", "    ")
        if text.startswith(self.shown):
            self._write(text[len(self.shown) :])
        else:
            self._write(("\n" if self.shown else "") + text)
        self.shown = text
        self.frame += 1
        spinner = SPINNER[self.frame % len(SPINNER)]
        line = f"{spinner} {status_line(job, self.started)}"
        self.out.write(("\n" if self.shown else "") + _fit(line, self.width - 1))
        self.out.flush()
        self.footer = True

    def _clear_footer(self) -> None:
        if not self.footer:
            return
        self.out.write("\r\x1b[K")
        if self.shown and self.column < self.width:
            # Back up to where the text ends; a full last row continues on this one.
            self.out.write(f"\x1b[A\x1b[{self.column + 1}G")
        else:
            self.column = 0
        self.footer = False

    def _write(self, delta: str) -> None:
        self.out.write(delta)
        for char in delta:
            if char == "\n":
                self.column = 0
                continue
            if self.column >= self.width:
                self.column = 0
            self.column += _cells(char)

    def end_text(self) -> None:
        self._clear_footer()
        super().end_text()
        self.column = 0

    def note(self, line: str) -> None:
        self.end_text()
        self.out.write(line + "\n")
        self.out.flush()


def _cells(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _fit(line: str, width: int) -> str:
    return line if len(line) <= width else line[: max(0, width - 1)] + "…"
