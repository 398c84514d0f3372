"""A/322 7.1.4 hybrid time interleaving, intra-subframe (``time_interleaver.json``).

An interleaving frame (one PLP's FEC blocks of a frame) is split into N_TI TI blocks, the
smaller ones first. In each TI block every FEC block r goes through the cell interleaver,
out[q] = in[(L_0(q) + P_r) mod N_cells] (L_0 from an LFSR over the bit length of N_cells, P_r a
bit-reversed counter restarted per TI block), then the twisted block interleaver: virtual FEC
blocks first, columns of N_cells cells, read diagonally, virtual cells skipped.
"""
from __future__ import annotations

from functools import cache

import numpy as np

from sdrcast.phy.interleave import ConvolutionalInterleaver
from sdrcast.phy.tables import load_json


def _spec() -> dict:
    return load_json("atsc3", "time_interleaver.json")["HTI"]


@cache
def cell_permutation(n_cells: int) -> np.ndarray:
    """L_0 (length n_cells)."""
    nd = n_cells.bit_length()
    taps = _spec()["cell_interleaver"]["taps_by_Nd"][str(nd)]
    out = []
    r = 0
    for j in range(1 << nd):
        if j < 2:
            r = 0
        elif j == 2:
            r = 1
        else:
            fb = 0
            for t in taps:
                fb ^= (r >> t) & 1
            r = (r >> 1) | (fb << (nd - 2))
        a = r + (j % 2) * (1 << (nd - 1))
        if a < n_cells:
            out.append(a)
    return np.asarray(out, np.int64)


@cache
def offsets(n_cells: int, count: int) -> np.ndarray:
    """P_r for r < count: bit-reversed counter values below n_cells."""
    nd = n_cells.bit_length()
    out, k = [], 0
    while len(out) < count:
        p = int(format(k, f"0{nd}b")[::-1], 2)
        if p < n_cells:
            out.append(p)
        k += 1
    return np.asarray(out, np.int64)


@cache
def twisted_read_order(n_rows: int, n_cols: int, n_virtual: int) -> np.ndarray:
    """Memory indices (theta = n_rows C + R) in read order, virtual cells skipped, offset so
    that index 0 is the first real cell."""
    i = np.arange(n_rows * n_cols)
    r = i % n_rows
    c = (r % n_cols + i // n_rows) % n_cols
    theta = n_rows * c + r
    return theta[theta >= n_virtual * n_rows] - n_virtual * n_rows


def block_sizes(n_fec: int, n_ti: int) -> list[int]:
    """FEC blocks per TI block, the smaller ones first."""
    small = n_fec // n_ti
    return [small] * (n_ti - n_fec % n_ti) + [small + 1] * (n_fec % n_ti)


def hybrid(cells: np.ndarray, n_cells: int, n_ti: int, n_fec_max: int,
           cell_interleaver: bool = True) -> np.ndarray:
    """One interleaving frame: ``cells`` = N_FEC FEC blocks of ``n_cells`` cells."""
    blocks = np.asarray(cells).reshape(-1, n_cells)
    n_cols = -(-n_fec_max // n_ti)
    out, b = [], 0
    for size in block_sizes(blocks.shape[0], n_ti):
        ti = blocks[b:b + size]
        b += size
        if cell_interleaver:
            l0 = cell_permutation(n_cells)
            p = offsets(n_cells, size)
            ti = np.stack([blk[(l0 + p[r]) % n_cells] for r, blk in enumerate(ti)])
        order = twisted_read_order(n_cells, n_cols, n_cols - size)
        out.append(ti.reshape(-1)[order])
    return np.concatenate(out)


class CtiInterleaver:
    """A/322 7.1.5 convolutional time interleaver over one PLP's cell stream, across frames: the
    generic ``phy.interleave.ConvolutionalInterleaver`` with N_rows branches of unit delay.

    Cell n (counted from start-up) enters row r = n mod N_rows and leaves N_rows * r cells later:
    out[n] = in[n - N_rows r]. Before the delay lines fill, gr-atsc3's fill cells come out (row
    r starts with r cells: fill cell t = r(r-1)/2 + (r-1-k) for the k-th output of row r, each
    the next eta bits of the baseband-scrambler sequence mapped to the PLP constellation).
    ``start_row`` and ``fec_block_start`` give the L1-Detail fields of the next frame;
    ``deinterleaver(dtype)`` the receiver's inverse.
    """

    def __init__(self, rows: int, points: np.ndarray, cells_per_fec_block: int):
        from sdrcast.phy.atsc3.scrambler import sequence

        self.rows, self.n_fec = rows, cells_per_fec_block
        points = np.asarray(points)
        eta = (points.size - 1).bit_length()
        n_fill = rows * (rows - 1) // 2
        bits = np.unpackbits(sequence(-(-n_fill * eta // 8)))[:n_fill * eta].reshape(n_fill, eta)
        labels = (bits.astype(np.int64) << np.arange(eta - 1, -1, -1)).sum(axis=1)
        fill = points[labels].astype(np.complex64)
        # row r's delay line holds fill cells r(r-1)/2 .. r(r-1)/2 + r - 1, last one out first
        fill = np.concatenate([fill[r * (r - 1) // 2:r * (r + 1) // 2][::-1] for r in range(rows)])
        self.interleaver = ConvolutionalInterleaver(rows, 1, np.complex64, fill=fill)

    @property
    def start_row(self) -> int:
        return self.interleaver.count % self.rows

    def fec_block_start(self) -> int:
        """L1D_plp_CTI_fec_block_start for the next frame (A/322 9.3.9.1)."""
        c = (-self.interleaver.count) % self.n_fec
        return c + self.rows * ((self.start_row + c) % self.rows)

    def __call__(self, cells: np.ndarray) -> np.ndarray:
        return self.interleaver(cells)

    def deinterleaver(self, dtype=np.complex64) -> CtiDeinterleaver:
        return CtiDeinterleaver(self.interleaver.inverse(), dtype)


class CtiDeinterleaver:
    """The CTI's inverse for a stream received from the transmitter's first cell (or, after
    ``join``, from any frame): every cell is late by R (R - 1); the first R (R - 1) outputs
    (the transmitter's start-up fill) are dropped and the rest is the interleaver's input, FEC
    block aligned. ``dtype``: cells, or
    float32 for their noise variances."""

    def __init__(self, inverse: ConvolutionalInterleaver, dtype=np.complex64):
        self.inverse = ConvolutionalInterleaver(inverse.branches, inverse.unit, dtype, inverse.reverse)
        self.skip = inverse.latency

    def join(self, start_row: int, to_block: int) -> None:
        """Start on a stream already running: its next cell is in row ``start_row`` (L1), and
        the next FEC block begins ``to_block`` cells into the interleaver's input there. What
        comes out before the delay lines have filled with received cells is dropped, then
        output starts at that FEC block."""
        self.inverse.reset()
        self.inverse.branch = start_row
        self.skip = self.inverse.latency + to_block

    def __call__(self, cells: np.ndarray) -> np.ndarray:
        before = self.inverse.count
        out = self.inverse(cells)
        return out[max(self.skip - before, 0):]
