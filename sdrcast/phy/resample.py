"""Streaming rational resampler stage (polyphase FIR), chunk-invariant."""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from sdrcast.config import require_range
from sdrcast.phy.kernels.filters import resample_poly, resampler_taps


class Resampler:
    """Resample a complex stream by ``up/down`` (reduced), keeping state across calls.

    ``from_rates(in_rate, out_rate)`` picks the ratio from two sample rates. The group delay is
    ``(len(taps) - 1) / 2`` samples at the up-sampled rate.
    """

    def __init__(self, up: int, down: int, taps: np.ndarray | None = None):
        require_range("up", up, 1)
        require_range("down", down, 1)
        r = Fraction(up, down)
        self.up, self.down = r.numerator, r.denominator
        self.taps = np.ascontiguousarray(
            resampler_taps(self.up, self.down) if taps is None else taps, np.float32)
        self.reset()

    @classmethod
    def from_rates(cls, in_rate: float, out_rate: float, max_den: int = 10000) -> Resampler:
        r = Fraction(out_rate / in_rate).limit_denominator(max_den)
        return cls(r.numerator, r.denominator)

    @property
    def delay_out(self) -> float:
        """Group delay in output samples."""
        return (self.taps.size - 1) / 2 / self.down

    def reset(self) -> None:
        self.history = np.zeros(-(-self.taps.size // self.up), np.complex64)
        self.t_next = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, np.complex64)
        y, self.t_next = resample_poly(x, self.history, self.taps, self.up, self.down, self.t_next)
        h = self.history.size
        if x.size >= h:
            self.history = x[x.size - h:].copy()
        else:
            self.history = np.concatenate([self.history[x.size:], x])
        return y


SINC_PHASES = 512


def sinc_table(half: int) -> np.ndarray:
    """Hann-windowed sinc interpolator taps for ``SINC_PHASES + 1`` fractional delays in
    [0, 1] (``kernels.fractional.fractional_interpolate``): row p, column c weights input
    ``base - half + 1 + c`` for an output at ``base + p / SINC_PHASES``."""
    frac = np.arange(SINC_PHASES + 1)[:, None] / SINC_PHASES
    d = frac - (np.arange(2 * half)[None, :] - half + 1)
    w = 0.5 + 0.5 * np.cos(np.pi * np.clip(d / half, -1, 1))
    tab = np.sinc(d) * w
    return (tab / tab.sum(axis=1, keepdims=True)).astype(np.float32)
