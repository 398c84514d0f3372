"""Constellation objects: point tables with their labels, mapping and soft demapping."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from sdrcast.config import require_one_of
from sdrcast.errors import ConfigError
from sdrcast.phy.kernels import qam
from sdrcast.phy.parallel import parallel_map


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

    @cached_property
    def _structure(self):
        """How max-log demapping can be cut down: ("axes", levels_i, levels_q, columns) when
        every label bit moves one axis only (separable, e.g. 1-D NUC, square QAM),
        ("quadrant", quarter, sub_labels, bit_r, bit_i) when two label bits flip the signs
        (e.g. 2-D NUC), else None (exhaustive search)."""
        pts, eta = self.points, self.bits_per_symbol
        labels = np.arange(pts.size)
        flips = [labels ^ (1 << (eta - 1 - b)) for b in range(eta)]
        same = [(np.allclose(pts.real, pts[f].real, atol=1e-6),
                 np.allclose(pts.imag, pts[f].imag, atol=1e-6)) for f in flips]
        re_bits = [b for b, (r, i) in enumerate(same) if i and not r]
        im_bits = [b for b, (r, i) in enumerate(same) if r and not i]
        if len(re_bits) == len(im_bits) and len(re_bits) + len(im_bits) == eta:
            k = len(re_bits)

            def sub(lab, bits):  # those bits of the label, MSB first
                return sum(((lab >> (eta - 1 - b)) & 1) << (len(bits) - 1 - j) for j, b in enumerate(bits))

            levels_i, levels_q = np.zeros(1 << k), np.zeros(1 << k)
            for lab in range(pts.size):
                levels_i[sub(lab, re_bits)] = pts[lab].real
                levels_q[sub(lab, im_bits)] = pts[lab].imag
            # demap_maxlog_axes gives bits LSB first per axis: I bits, then Q bits
            cols = np.empty(eta, np.int64)
            for j, b in enumerate(re_bits):
                cols[b] = k - 1 - j
            for j, b in enumerate(im_bits):
                cols[b] = k + k - 1 - j
            return "axes", levels_i, levels_q, cols
        neg = [(np.allclose(pts[f].real, -pts.real, atol=1e-6) and same[b][1],
                np.allclose(pts[f].imag, -pts.imag, atol=1e-6) and same[b][0])
               for b, f in enumerate(flips)]
        bit_r = next((b for b, (r, _) in enumerate(neg) if r), None)
        bit_i = next((b for b, (_, i) in enumerate(neg) if i), None)
        if bit_r is None or bit_i is None or eta < 3:
            return None
        rest = [b for b in range(eta) if b not in (bit_r, bit_i)]
        quarter = labels[((labels >> (eta - 1 - bit_r)) & 1 == 0) & ((labels >> (eta - 1 - bit_i)) & 1 == 0)]
        sub_labels = np.array([sum(((q >> (eta - 1 - b)) & 1) << (len(rest) - 1 - j)
                                   for j, b in enumerate(rest)) for q in quarter], np.int64)
        return "quadrant", np.ascontiguousarray(pts[quarter]), sub_labels, bit_r, bit_i

    def demap(self, symbols: np.ndarray, noise_var: float | np.ndarray,
              method: str = "maxlog") -> np.ndarray:
        """Symbols -> float32 LLRs (positive means 0), ``method`` 'maxlog' or 'logmap'.
        Max-log uses the constellation's structure (separable axes, or quadrant symmetry) when
        it has one, with the exhaustive result; long inputs run on two threads."""
        require_one_of("method", method, ("maxlog", "logmap"))
        sym = np.ascontiguousarray(symbols, np.complex64)
        nv = np.maximum(np.asarray(noise_var, np.float64), 1e-12)
        if nv.ndim and nv.shape != sym.shape:
            raise ConfigError(f"noise_var shape {nv.shape} does not match symbols {sym.shape}")
        if sym.size >= 20000:  # two halves in parallel (the kernels release the GIL)
            h = sym.size // 2
            parts = [(sym[:h], nv[:h] if nv.ndim else nv), (sym[h:], nv[h:] if nv.ndim else nv)]
            return np.concatenate(parallel_map(lambda a: self._demap(*a, method), parts))
        return self._demap(sym, nv, method)

    def _demap(self, sym: np.ndarray, nv: np.ndarray, method: str) -> np.ndarray:
        nv = nv if nv.ndim else float(nv)
        st = self._structure if method == "maxlog" else None
        if st is None:
            fn = qam.demap_maxlog if method == "maxlog" else qam.demap_logmap
            return fn(sym, self.points, self.bits_per_symbol, nv)
        if st[0] == "axes":
            _, li, lq, cols = st
            llr = qam.demap_maxlog_axes(sym, li, lq, nv)
            return llr.reshape(-1, self.bits_per_symbol)[:, cols].reshape(-1)
        _, quarter, sub_labels, bit_r, bit_i = st
        return qam.demap_maxlog_quadrant(sym, quarter, sub_labels, bit_r, bit_i, self.bits_per_symbol, nv)

    def decide(self, symbols: np.ndarray) -> np.ndarray:
        """Nearest-point labels."""
        return qam.hard_decide(np.ascontiguousarray(symbols, np.complex64), self.points)
