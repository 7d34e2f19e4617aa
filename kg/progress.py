"""One progress line on stderr, rewritten in place, for long commands (``kg build``,
``kg load``): the stage, and for counted work the count done, the total, the rate and the
time left.

It is shown only when stderr is a terminal (and the command was not asked to be quiet):
logs and pipes get the command's final summary alone, never carriage returns. Redrawn at
most every :data:`REDRAW_SECONDS`, so counting costs nothing measurable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["REDRAW_SECONDS", "Progress", "format_eta"]

#: The shortest time between two redraws of the line.
REDRAW_SECONDS = 0.25


def format_eta(seconds: float) -> str:
    """``seconds`` as ``M:SS`` (or ``H:MM:SS`` from an hour on)."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """The progress line of one command run.

    ``enabled`` None means: on when ``stream`` (default stderr) is a terminal. Call the
    object with a stage name (``None`` clears the line, before any other message); give
    :meth:`counting` a total and then :meth:`advance` the count to show rate and ETA.
    """

    def __init__(self, command: str, *, enabled: bool | None = None,
                 stream: TextIO | None = None) -> None:
        self.command = command
        self.stream = stream if stream is not None else sys.stderr
        self.on = self.stream.isatty() if enabled is None else enabled
        self.started = time.monotonic()
        self._what = ""
        self._total = 0
        self._done = 0
        self._unit = ""
        self._stage_started = self.started
        self._drawn = 0.0

    def __call__(self, what: str | None) -> None:
        """Start the uncounted stage ``what``; ``None``: clear the line (the end)."""
        self._total = 0
        if what is None:
            if self.on:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
            return
        self._what = what
        self._draw(force=True)

    def counting(self, what: str, total: int, unit: str) -> None:
        """Start the stage ``what`` of ``total`` ``unit`` (e.g. triples)."""
        self._what, self._total, self._done, self._unit = what, total, 0, unit
        self._stage_started = time.monotonic()
        self._draw(force=True)

    def advance(self, count: int) -> None:
        """``count`` more units of the counted stage are done."""
        self._done += count
        self._draw()

    def update(self, done: int) -> None:
        """``done`` units of the counted stage are done in all."""
        self._done = done
        self._draw()

    def line(self) -> str:
        """The text of the line as it would be drawn now."""
        now = time.monotonic()
        text = f"{self.command}: {self._what}"
        if self._total:
            text += f" {self._done:,}/{self._total:,} {self._unit}"
            spent = now - self._stage_started
            if self._done and spent > 0:
                rate = self._done / spent
                left = (self._total - self._done) / rate
                text += f", {rate:,.0f}/s, ETA {format_eta(left)}"
        return f"{text} ({now - self.started:.1f} s)"

    def _draw(self, *, force: bool = False) -> None:
        if not self.on:
            return
        now = time.monotonic()
        if not force and now - self._drawn < REDRAW_SECONDS:
            return
        self._drawn = now
        self.stream.write(f"\r\x1b[K{self.line()}")
        self.stream.flush()
