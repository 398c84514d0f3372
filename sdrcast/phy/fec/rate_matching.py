"""LTE circular-buffer rate matching (3GPP TS 36.212 5.1.4.1 turbo, 5.1.4.2 convolutional)
and its inverse with soft combining.

Both build, once per block size, the circular buffer as indices into the flattened encoder
streams (``d[3, D].reshape(-1)``, -1 for NULL: the sub-block interleavers' padding and the
filler bits); rate matching is then a gather and de-rate-matching a scatter-add, so repeated
bits combine and punctured ones stay at LLR 0.
"""
from __future__ import annotations

from functools import cache

import numpy as np

from sdrcast.config import require_range
from sdrcast.phy.kernels.interleave import scatter_add
from sdrcast.phy.tables import load_json

C_SUBBLOCK = 32


def _permutation(kind: str) -> np.ndarray:
    key = "subblock_interleaver_turbo_36212_t5_1_4_1" if kind == "turbo" else \
        "subblock_interleaver_conv_36212_t5_1_4_2"
    return np.asarray(load_json("fec", "lte_coding_36212.json")[key]["column_permutation"])


def _subblock(stream: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """Sub-block interleaver: ``ND`` NULLs then the stream, written row by row into 32
    columns, columns permuted, read out column by column."""
    rows = -(-stream.size // C_SUBBLOCK)
    y = np.concatenate([np.full(rows * C_SUBBLOCK - stream.size, -1), stream])
    return y.reshape(rows, C_SUBBLOCK)[:, perm].T.reshape(-1)


@cache
def _turbo_buffer(D: int, filler: int) -> tuple[np.ndarray, int]:
    """(w: the circular buffer of a turbo block as stream indices, R = rows)."""
    perm = _permutation("turbo")
    idx = np.arange(3 * D).reshape(3, D)
    idx[:2, :filler] = -1  # filler bits are NULL in d0 and d1
    v0, v1 = _subblock(idx[0], perm), _subblock(idx[1], perm)
    rows = -(-D // C_SUBBLOCK)
    k_pi = rows * C_SUBBLOCK
    y2 = np.concatenate([np.full(k_pi - D, -1), idx[2]])
    kk = np.arange(k_pi)
    v2 = y2[(perm[kk // rows] + C_SUBBLOCK * (kk % rows) + 1) % k_pi]
    return np.concatenate([v0, np.stack([v1, v2], axis=1).reshape(-1)]), rows


@cache
def _conv_buffer(D: int) -> np.ndarray:
    perm = _permutation("conv")
    idx = np.arange(3 * D).reshape(3, D)
    return np.concatenate([_subblock(s, perm) for s in idx])


def _select(w: np.ndarray, E: int, k0: int, n_cb: int) -> np.ndarray:
    order = w[(k0 + np.arange(n_cb)) % n_cb]
    order = order[order >= 0]
    return np.resize(order, E)  # circular: repeats from the start


class RateMatcher:
    """Rate matching of one code block: ``RateMatcher.turbo(K, E, rv, filler, n_cb)`` or
    ``RateMatcher.conv(D, E)``; ``match(d) -> e[E]`` and ``llrs(e_llr) -> d_llr[3, D]``."""

    def __init__(self, D: int, positions: np.ndarray):
        self.D, self.E = D, positions.size
        self.positions = positions  # flat stream index of each output bit

    @staticmethod
    @cache
    def turbo(K: int, E: int, rv: int = 0, filler: int = 0, n_cb: int | None = None) -> RateMatcher:
        """Turbo block of ``K`` bits (D = K + 4) to ``E`` bits at redundancy version ``rv``;
        ``n_cb`` limits the soft buffer (default: the whole 3 K_pi, as on the MCH)."""
        require_range("E", E, 1)
        require_range("rv", rv, 0, 3)
        w, rows = _turbo_buffer(K + 4, filler)
        n_cb = w.size if n_cb is None else n_cb
        require_range("n_cb", n_cb, 1, w.size)
        k0 = rows * (2 * -(-n_cb // (8 * rows)) * rv + 2)
        return RateMatcher(K + 4, _select(w, E, k0, n_cb))

    @staticmethod
    @cache
    def conv(D: int, E: int) -> RateMatcher:
        """Tail-biting convolutional block (three streams of D bits) to ``E`` bits."""
        require_range("E", E, 1)
        w = _conv_buffer(D)
        return RateMatcher(D, _select(w, E, 0, w.size))

    def match(self, d: np.ndarray) -> np.ndarray:
        """Encoder streams ``d[3, D]`` -> the ``E`` bits sent."""
        return np.asarray(d).reshape(-1)[self.positions]

    def llrs(self, e: np.ndarray) -> np.ndarray:
        """LLRs of the ``E`` bits received -> ``[3, D]`` float32, repeats added, bits not sent 0."""
        return scatter_add(np.ascontiguousarray(e, np.float32), self.positions, 3 * self.D).reshape(3, self.D)
