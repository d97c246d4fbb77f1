"""A progress line for long builds: counts and rate, redrawn in place on a terminal, silent otherwise."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, what: str, stream=None, every: float = 0.2) -> None:
        self.what, self.stream, self.every = what, stream or sys.stderr, every
        self.on = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.started = time.monotonic()
        self.shown = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.on or total < 2:
            return
        now = time.monotonic()
        if done < total and now - self.shown < self.every:
            return
        self.shown = now
        rate = done / max(now - self.started, 1e-6)
        width = 24
        filled = width * done // total
        bar = "█" * filled + "·" * (width - filled)
        self.stream.write(f"\r{self.what} {bar} {done}/{total}（{rate:.1f} 个/秒）")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
