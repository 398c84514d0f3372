"""Constellation objects: point tables with their labels, mapping and soft demapping."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sdrcast.config import require_one_of
from sdrcast.errors import ConfigError
from sdrcast.phy.kernels import qam


def gray_code(n: int) -> np.ndarray:
    """Binary-reflected Gray code of 0..n-1."""
    i = np.arange(n)
    return i ^ (i >> 1)


def square_qam(order: int) -> np.ndarray:
    """Gray-labelled square QAM (4, 16, 64, 256, 1024, 4096), unit mean energy, indexed by label.

    The first half of the label's bits picks the in-phase level, the second half the quadrature
    level, each Gray-coded from the most negative level.
    """
    require_one_of("order", order, (4, 16, 64, 256, 1024, 4096))
    side = int(round(np.sqrt(order)))
    half = side.bit_length() - 1
    levels = 2 * np.arange(side) - (side - 1)
    axis = np.empty(side)
    axis[gray_code(side)] = levels
    labels = np.arange(order)
    pts = axis[labels >> half] + 1j * axis[labels & (side - 1)]
    return (pts / np.sqrt(np.mean(np.abs(pts) ** 2))).astype(np.complex64)


@dataclass(frozen=True)
class Constellation:
    """A labelled point set. ``points[label]``; labels are MSB-first bit groups."""

    points: np.ndarray
    name: str = ""
    bits_per_symbol: int = field(init=False)

    def __post_init__(self):
        pts = np.ascontiguousarray(self.points, np.complex64)
        m = pts.size
        if m < 2 or m & (m - 1):
            raise ConfigError(f"constellation {self.name!r}: {m} points; need a power of two >= 2")
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "bits_per_symbol", m.bit_length() - 1)

    @classmethod
    def qam(cls, order: int) -> Constellation:
        return cls(square_qam(order), f"{order}QAM")

    def map(self, bits: np.ndarray) -> np.ndarray:
        """Bits -> symbols; the bit count must be a multiple of ``bits_per_symbol``."""
        bits = np.ascontiguousarray(bits, np.uint8)
        if bits.size % self.bits_per_symbol:
            raise ConfigError(f"{self.name}: {bits.size} bits is not a multiple of "
                              f"{self.bits_per_symbol} bits per symbol")
        return qam.map_bits(bits, self.points, self.bits_per_symbol)

    def demap(self, symbols: np.ndarray, noise_var: float | np.ndarray,
              method: str = "maxlog") -> np.ndarray:
        """Symbols -> float32 LLRs (positive means 0), ``method`` 'maxlog' or 'logmap'."""
        require_one_of("method", method, ("maxlog", "logmap"))
        sym = np.ascontiguousarray(symbols, np.complex64)
        nv = np.maximum(np.asarray(noise_var, np.float64), 1e-12)
        if nv.ndim and nv.shape != sym.shape:
            raise ConfigError(f"noise_var shape {nv.shape} does not match symbols {sym.shape}")
        fn = qam.demap_maxlog if method == "maxlog" else qam.demap_logmap
        return fn(sym, self.points, self.bits_per_symbol, nv if nv.ndim else float(nv))

    def decide(self, symbols: np.ndarray) -> np.ndarray:
        """Nearest-point labels."""
        return qam.hard_decide(np.ascontiguousarray(symbols, np.complex64), self.points)
