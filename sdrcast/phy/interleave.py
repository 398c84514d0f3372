"""Interleaver stages built on ``kernels.interleave``; each inverse is made from its forward object."""
from __future__ import annotations

import numpy as np

from sdrcast.config import require_range
from sdrcast.errors import ConfigError
from sdrcast.phy.kernels import interleave as k


class BlockInterleaver:
    """A fixed permutation of frames of ``len(perm)`` items: ``out[i] = in[perm[i]]``."""

    def __init__(self, perm: np.ndarray):
        perm = np.asarray(perm, np.int64)
        if not np.array_equal(np.sort(perm), np.arange(perm.size)):
            raise ConfigError("perm is not a permutation of 0..n-1")
        self.perm = perm

    @classmethod
    def rows_cols(cls, rows: int, cols: int) -> BlockInterleaver:
        """Row-wise write, column-wise read."""
        return cls(k.block_permutation(rows, cols))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.shape[-1] != self.perm.size:
            raise ConfigError(f"frame of {x.shape[-1]} items; this interleaver takes {self.perm.size}")
        return k.permute(np.ascontiguousarray(x), self.perm)

    def inverse(self) -> BlockInterleaver:
        return BlockInterleaver(k.inverse_permutation(self.perm))


class ConvolutionalInterleaver:
    """Streaming Forney interleaver: ``branches`` B, branch ``b`` delays ``b * unit`` (x B items).

    ``inverse()`` gives the matching deinterleaver (branch ``b`` delays ``(B-1-b) * unit``); the
    pair delays every item by ``B (B-1) unit`` items. State persists across calls, so the output
    does not depend on how the stream is cut. ``dtype`` is the item type (cells, LLRs...).
    ``fill``: what the delay lines hold at start-up (zeros by default), branch after branch,
    each branch's items in the order they come out. ``count`` is the items in so far.
    """

    def __init__(self, branches: int, unit: int, dtype=np.complex64, reverse: bool = False,
                 fill: np.ndarray | None = None):
        require_range("branches", branches, 1)
        require_range("unit", unit, 1)
        self.branches, self.unit, self.dtype, self.reverse = branches, unit, np.dtype(dtype), reverse
        b = np.arange(branches, dtype=np.int64)
        self.delays = ((branches - 1 - b) if reverse else b) * unit
        self.offsets = np.concatenate([[0], np.cumsum(self.delays)[:-1]]).astype(np.int64)
        self.fill = None if fill is None else np.asarray(fill, self.dtype)
        if self.fill is not None and self.fill.size != int(self.delays.sum()):
            raise ConfigError(f"fill of {self.fill.size} items; the delay lines hold "
                              f"{int(self.delays.sum())}")
        self.reset()

    @property
    def latency(self) -> int:
        """Items from interleaver input to deinterleaver output."""
        return self.branches * (self.branches - 1) * self.unit

    def reset(self) -> None:
        self.memory = (np.zeros(int(self.delays.sum()), self.dtype) if self.fill is None
                       else self.fill.copy())
        self.pointers = np.zeros(self.branches, np.int64)
        self.branch = 0
        self.count = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, self.dtype)
        y, self.branch = k.convolutional_interleave(x, self.delays, self.memory, self.offsets,
                                                    self.pointers, self.branch)
        self.count += x.size
        return y

    def inverse(self) -> ConvolutionalInterleaver:
        return ConvolutionalInterleaver(self.branches, self.unit, self.dtype, not self.reverse)
