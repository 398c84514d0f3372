"""A receiver's input buffer: samples appended as they come, consumed from the front, indexed
by absolute sample number. Appending is amortised O(new samples) (the storage doubles and the
live part moves to the front only when the end is reached), where concatenating the whole
buffer on every push copied it each time."""
from __future__ import annotations

import numpy as np


class SampleBuffer:
    """``append(x)``, ``view`` (the samples held), ``start`` (absolute index of ``view[0]``),
    ``end``, ``drop_before(index)``, ``allocated``."""

    def __init__(self, dtype=np.complex64):
        self._store = np.zeros(1 << 16, dtype)
        self._lo = self._hi = 0
        self.start = 0

    @property
    def view(self) -> np.ndarray:
        return self._store[self._lo:self._hi]

    @property
    def allocated(self) -> int:
        """Samples of storage (the memory bound: at most about twice the most ever held)."""
        return self._store.size

    @property
    def end(self) -> int:
        """Absolute index one past the last sample held."""
        return self.start + self._hi - self._lo

    def append(self, x: np.ndarray) -> None:
        n = x.size
        if self._hi + n > self._store.size:
            held = self._hi - self._lo
            if held + n > self._store.size // 2:
                grown = np.zeros(max(2 * (held + n), self._store.size), self._store.dtype)
                grown[:held] = self.view
                self._store = grown
            else:
                self._store[:held] = self.view
            self._lo, self._hi = 0, held
        self._store[self._hi:self._hi + n] = x
        self._hi += n

    def drop_before(self, index: int) -> None:
        """Forget the samples before absolute ``index`` (clipped to those held)."""
        cut = max(0, min(index - self.start, self._hi - self._lo))
        self._lo += cut
        self.start += cut
