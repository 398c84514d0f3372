"""A/322 7.2 framing: the cells of one subframe, symbol after symbol, before frequency
interleaving. As gr-atsc3 builds them:

* the first preamble symbol starts with the L1-Basic cells, then the L1-Detail cells, written
  column by column over the preamble symbols (cell j of preamble column i is L1-Detail cell
  j * n_preamble + i; the remainder follows in order);
* then the data cells: the PLPs' cells (TDM: one after the other) and dummy cells up to the
  frame's capacity; a dummy cell at data position p is BPSK of bit p of the baseband-scrambler
  sequence (1 - 2 b), as gr-atsc3 fills; the sequence runs on over the frame's subframes, each
  taking whole bytes of it (``dummy_offset``, see ``dummy_offsets``);
* a subframe boundary symbol carries null cells (zero) at both ends: its cells minus its active
  data cells (Annex F, by pilot boost), split in half (an odd one goes to the top end).
"""
from __future__ import annotations

from functools import cache

import numpy as np

from sdrcast.errors import ConfigError
from sdrcast.phy.atsc3.frame_geometry import SymbolLayout, pattern_index
from sdrcast.phy.atsc3.scrambler import sequence
from sdrcast.phy.atsc3.tables import ofdm


def sbs_null_cells(fft: int, pattern: str, cred: int, boost: int) -> int:
    cps = ofdm()["cells_per_symbol"]
    key = {8192: "8K", 16384: "16K", 32768: "32K"}[fft]
    p = pattern_index(pattern)
    return cps[f"sbs_cells_{key}"][p][cred] - cps[f"sbs_data_cells_{key}"][p][cred][boost]


@cache
def _dummy_bits(n: int) -> np.ndarray:
    return np.unpackbits(sequence(-(-n // 8)))[:n]


def data_capacity(layout: SymbolLayout, l1_cells: int, nulls: int) -> int:
    """Cells left for PLPs and dummy cells."""
    return layout.total_cells - l1_cells - nulls * sum(k == "SBS" for k in layout.kinds)


def dummy_offsets(capacities: list[int]) -> list[int]:
    """Start bit of each subframe's dummy sequence: the previous subframes' capacity in bytes."""
    return [8 * sum(-(-c // 8) for c in capacities[:i]) for i in range(len(capacities))]


def detail_cells(framed: np.ndarray, n_pre: int, n_basic: int, n_detail: int) -> np.ndarray:
    """The L1-Detail cells in their coded order, read from a frame's first subframe with
    ``n_pre`` preamble symbols (undoes the spreading over them)."""
    seg = np.asarray(framed)[n_basic:n_basic + n_detail]
    rows = n_detail // n_pre
    return np.concatenate([seg[:rows * n_pre].reshape(n_pre, rows).T.reshape(-1), seg[rows * n_pre:]])


@cache
def data_positions(layout: SymbolLayout, l1_cells: int, nulls: int) -> np.ndarray:
    """Positions of the data cells (PLPs, then dummies) among a subframe's framed cells: after
    the L1 cells at the start, every data cell but a boundary symbol's null cells at both ends
    (the odd one at the top)."""
    pos, start, first = [], 0, l1_cells
    for kind, n in zip(layout.kinds, layout.cells, strict=True):
        if first >= n:
            first -= n
        elif kind == "SBS":
            low = nulls // 2
            pos.append(np.arange(start + low, start + n - (nulls - low)))
            first = 0
        else:
            pos.append(np.arange(start + first, start + n))
            first = 0
        start += n
    out = np.concatenate(pos) if pos else np.zeros(0, np.int64)
    out.flags.writeable = False
    return out


def build(layout: SymbolLayout, plp_cells: np.ndarray, nulls: int, l1_basic: np.ndarray | None = None,
          l1_detail: np.ndarray | None = None, dummy_offset: int = 0) -> np.ndarray:
    """Framed cells of one subframe (``l1_*`` for the subframe that opens the frame)."""
    l1b = np.zeros(0, np.complex64) if l1_basic is None else np.asarray(l1_basic, np.complex64)
    l1d = np.zeros(0, np.complex64) if l1_detail is None else np.asarray(l1_detail, np.complex64)
    n_pre = sum(k in ("FP", "P") for k in layout.kinds)
    if l1d.size and n_pre:
        rows = l1d.size // n_pre
        l1d = np.concatenate([l1d[:rows * n_pre].reshape(rows, n_pre).T.reshape(-1), l1d[rows * n_pre:]])
    l1 = np.concatenate([l1b, l1d])
    capacity = data_capacity(layout, l1.size, nulls)
    plp = np.asarray(plp_cells, np.complex64)
    if plp.size > capacity:
        raise ConfigError(f"PLP cells ({plp.size}) exceed the subframe's data capacity ({capacity})")
    bits = _dummy_bits(dummy_offset + capacity)[dummy_offset + plp.size:]
    dummy = (1 - 2 * bits.astype(np.float32)).astype(np.complex64)
    out = np.zeros(layout.total_cells, np.complex64)
    out[:l1.size] = l1
    out[data_positions(layout, l1.size, nulls)] = np.concatenate([plp, dummy])
    return out
