"""Per-block counters, rates and the periodic status line."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import IO


class PortCounter:
    """Items and chunks that crossed one side of a block."""

    __slots__ = ("chunks", "items")

    def __init__(self) -> None:
        self.items = 0
        self.chunks = 0

    def add(self, n_items: int) -> None:
        self.items += n_items
        self.chunks += 1


def format_rate(items_per_s: float) -> str:
    """Human form of an item rate: 12.3 k/s, 6.91 M/s."""
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if items_per_s >= scale:
            return f"{items_per_s / scale:.3g} {unit}/s"
    return f"{items_per_s:.3g} /s"


class StatusPrinter:
    """Prints ``line()`` to ``stream`` every ``interval`` seconds until stopped."""

    def __init__(self, line: Callable[[], str], stream: IO[str], interval: float = 1.0):
        self._line, self._stream, self._interval = line, stream, interval
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sdrcast-status", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self._interval):
            print(self._line(), file=self._stream, flush=True)


class RateClock:
    """Elapsed wall time and the rate of a counter since the last reading."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self._last: dict[str, tuple[float, int]] = {}

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def rate(self, key: str, count: int) -> float:
        now = time.monotonic()
        t_prev, c_prev = self._last.get(key, (self.t0, 0))
        self._last[key] = (now, count)
        return (count - c_prev) / max(now - t_prev, 1e-9)
