"""A progress line for long builds: counts, rate and the time still to go, redrawn in place on a terminal,
silent otherwise."""

from __future__ import annotations

import math
import sys
import time
import unicodedata


class Progress:
    def __init__(self, what: str, stream=None, every: float = 0.2, clock=time.monotonic) -> None:
        self.what, self.stream, self.every, self.clock = what, stream or sys.stderr, every, clock
        self.on = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.first: tuple[float, int] | None = None  # (time, count) of the first report
        self.shown = -math.inf
        self.width = 0  # of the line drawn last, in terminal columns
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.on or total < 2:
            return
        now = self.clock()
        # The rate counts from the first department-year done, not from the command's start: the scan, or a wait
        # for another build to finish, came before it.
        if self.first is None:
            self.first = (now, done)
        if done < total and now - self.shown < self.every:
            return
        self.shown = now
        filled = 24 * done // total
        line = f"{self.what} {'█' * filled}{'·' * (24 - filled)} {done}/{total}"
        since, then = self.first
        if now > since and done > then:
            rate = (done - then) / (now - since)
            left = f"，还需约 {_duration((total - done) / rate)}" if done < total else ""
            line += f"（{rate:.1f} 个/秒{left}）"
        width = _columns(line)
        # Padded over what the last line drew beyond this one: the time to go gets shorter as it counts down.
        self.stream.write(f"\r{line}{' ' * max(0, self.width - width)}")
        self.stream.flush()
        self.width = width
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _duration(seconds: float) -> str:
    if seconds < 59.5:
        return f"{max(1, round(seconds))} 秒"
    if seconds < 3570:
        return f"{round(seconds / 60)} 分钟"
    return f"{seconds / 3600:.1f} 小时"


def _columns(text: str) -> int:
    """How many terminal columns `text` takes: Chinese characters and full-width punctuation take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
