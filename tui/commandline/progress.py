"""A progress line on stderr for long commands, drawn only when stderr is a terminal.

``TerminalProgress`` takes the importer's ``ImportProgress`` reports and redraws one
line at most ten times a second: a bar, the share done, rows, rows per second and the
time left. Piped or redirected stderr gets nothing (a log stays clean); the line is
cleared when the work ends or fails, so the final message stands alone.
``Ticker`` shows the elapsed time of work whose size is unknown (a large count).
"""
from __future__ import annotations

import shutil
import sys
import threading
import time
from typing import TYPE_CHECKING, Self, TextIO

if TYPE_CHECKING:
    from models.importer import ImportProgress

BAR = 20


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def progress_line(p: ImportProgress, label: str = "importing") -> str:
    """``importing [#########·······]  38%  380,000 rows  121,000 rows/s  ETA 0:05``"""
    fraction = p.fraction
    if fraction is None:
        bar = ""
    else:
        filled = int(fraction * BAR)
        bar = f"[{'#' * filled}{'·' * (BAR - filled)}] {fraction * 100:3.0f}%  "
    eta = p.eta_s
    tail = "" if eta is None or p.done else f"  ETA {_clock(eta)}"
    return f"{label} {bar}{p.rows:,} rows  {p.rows_per_s:,.0f} rows/s{tail}"


class TerminalProgress:
    """A callback for ``import_csv(progress=…)`` that draws on a TTY, else does nothing."""

    def __init__(self, stream: TextIO | None = None, *, label: str = "importing", interval: float = 0.1,
                 force: bool = False):
        self.stream = stream if stream is not None else sys.stderr
        self.active = force or bool(getattr(self.stream, "isatty", lambda: False)())
        self.label = label
        self.interval = interval
        self._last = 0.0
        self._drawn = False

    def __call__(self, p: ImportProgress) -> None:
        if not self.active:
            return
        now = time.monotonic()
        if not p.done and now - self._last < self.interval:
            return
        self._last = now
        width = max(shutil.get_terminal_size((80, 24)).columns - 1, 20)
        self.stream.write("\r" + progress_line(p, self.label)[:width].ljust(width))
        self.stream.flush()
        self._drawn = True

    def clear(self) -> None:
        """Remove the progress line (before the result or an error message)."""
        if self._drawn:
            width = max(shutil.get_terminal_size((80, 24)).columns - 1, 20)
            self.stream.write("\r" + " " * width + "\r")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.clear()


class Ticker:
    """``counting… 0:07`` on a TTY while a single long statement runs (size unknown)."""

    def __init__(self, label: str, stream: TextIO | None = None, *, delay: float = 1.0, force: bool = False):
        self.stream = stream if stream is not None else sys.stderr
        self.active = force or bool(getattr(self.stream, "isatty", lambda: False)())
        self.label = label
        self.delay = delay
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drawn = False

    def _run(self) -> None:
        started = time.monotonic()
        if self._stop.wait(self.delay):  # quick work shows nothing
            return
        while not self._stop.is_set():
            self.stream.write(f"\r{self.label}… {_clock(time.monotonic() - started)}")
            self.stream.flush()
            self._drawn = True
            self._stop.wait(0.5)

    def __enter__(self) -> Self:
        if self.active:
            self._thread = threading.Thread(target=self._run, name="rota-ticker", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._drawn:
            self.stream.write("\r" + " " * (len(self.label) + 12) + "\r")
            self.stream.flush()
