"""Symbols of an ATSC 3.0 subframe and their data cells (A/322 7.2, Tables 7.3-7.6, 8.x).

A subframe is preamble symbols (the first one of the frame always has the C_red_coeff = 4
carriers),
then payload symbols, the first of which may be a subframe boundary symbol (SBS first) and the
last of which is one (SBS last; gr-atsc3 always closes a subframe with it). Cell counts come
from ``ofdm_framing.json`` (``cells_per_symbol``, indexed by pilot pattern and C_red_coeff).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from sdrcast.errors import ConfigError
from sdrcast.phy.atsc3.tables import ofdm

FFT_SIZES = (8192, 16384, 32768)


@dataclass(frozen=True)
class SymbolLayout:
    """A subframe's resource grid: FFT size, symbol kinds and data cells per symbol, and the
    numerology its pilots and guard intervals follow (guard interval code, scattered pilot
    pattern and boost, reduced-carriers coefficient, tone reservation)."""

    fft: int
    kinds: tuple[str, ...]  # per symbol: "FP" first preamble, "P" preamble, "SBS", "D" data
    cells: tuple[int, ...]  # data cells per symbol
    gi: int
    pattern: str
    boost: int
    cred: int
    tr: bool = False  # tone reservation: reserved carriers carry no data

    @property
    def n_preamble(self) -> int:
        return sum(k in ("FP", "P") for k in self.kinds)

    @property
    def total_cells(self) -> int:
        return sum(self.cells)


def pattern_index(pattern: str) -> int:
    names = list(ofdm()["scattered_pilot_patterns"])
    if pattern not in names:
        raise ConfigError(f"scattered_pilot_pattern={pattern!r} is not allowed; choose one of {names}")
    return names.index(pattern)


@cache
def preamble_row(fft: int, gi: int, pattern: str) -> int:
    """Row of ``preamble_pilots.rows`` (preamble Dx and boost) for this FFT, GI and data SP."""
    for i, r in enumerate(ofdm()["preamble_pilots"]["rows"]):
        if r["fft"] == fft and r["GI"] == gi:
            cond = r["data_SP"]  # "any", "SP8_2/SP8_4" or "other" (32K GI9/GI10)
            if cond == "any" or (cond == "other") != (pattern in cond.split("/")):
                return i
    raise ConfigError(f"guard_interval=GI{gi} is not allowed with fft_size={fft} (no preamble "
                      "pilot row in A/322 Table 8.x)")


@cache
def reserved_carriers(fft: int, kind: str, payload_index: int, gi: int, pattern: str,
                      cred: int) -> np.ndarray:
    """Tone-reservation carriers of a symbol (A/322 8.x; ``tr_papr_reserved_carriers``):
    none in the frame's first preamble symbol; the alternative set in preamble symbols whose
    preamble Dx is 3, 4 or 8 and in subframe boundary symbols whose Dx is; in data symbols the
    set moved up by Dx (l mod Dy) like the scattered pilots. Indices count from the lowest
    active carrier (moved with C_red_coeff; any falling outside the band are dropped)."""
    if kind == "FP":
        return np.zeros(0, np.int64)
    tab = ofdm()
    sp = tab["scattered_pilot_patterns"][pattern]
    dx = tab["preamble_pilots"]["rows"][preamble_row(fft, gi, pattern)]["preamble_Dx"] \
        if kind == "P" else sp["Dx"]
    alt = kind in ("P", "SBS") and dx in (3, 4, 8)
    shift = sp["Dx"] * (payload_index % sp["Dy"]) if kind == "D" else 0
    nocs = tab["num_carriers_NoC"][str(fft)]
    idx = np.asarray(tab["tr_papr_reserved_carriers"][f"{'alt_' if alt else ''}{fft}"], np.int64)
    idx = idx + shift - (nocs[0] - nocs[cred]) // 2
    return idx[(idx >= 0) & (idx < nocs[cred])]


def layout(fft: int, gi: int, pattern: str, cred: int, n_preamble: int, n_payload: int,
           sbs_first: bool, frame_start: bool = True, tr: bool = False,
           boost: int = 0) -> SymbolLayout:
    """Symbol kinds and data-cell counts of one subframe (``n_payload`` counts the SBSs);
    ``tr``: tone reservation, each symbol's reserved carriers taken from its data cells."""
    if fft not in FFT_SIZES:
        raise ConfigError(f"fft_size={fft} is not allowed; choose one of {FFT_SIZES}")
    cps = ofdm()["cells_per_symbol"]
    p = pattern_index(pattern)
    key = {8192: "8K", 16384: "16K", 32768: "32K"}[fft]
    data, sbs = cps[f"data_cells_{key}"][p][cred], cps[f"sbs_cells_{key}"][p][cred]
    if data == 0:
        raise ConfigError(f"scattered_pilot_pattern={pattern!r} is not allowed with fft_size={fft}")
    kinds, cells = [], []
    row = cps["preamble_cells"][preamble_row(fft, gi, pattern)] if n_preamble else None
    for i in range(n_preamble):
        first = i == 0 and frame_start
        kinds.append("FP" if first else "P")
        cells.append(row[4] if first else row[cred])
    for i in range(n_payload):
        edge = i == n_payload - 1 or (i == 0 and sbs_first)
        kinds.append("SBS" if edge else "D")
        cells.append(sbs if edge else data)
    if tr:
        n_pre = sum(k in ("FP", "P") for k in kinds)
        cells = [c - reserved_carriers(fft, k, j - n_pre, gi, pattern, cred).size
                 for j, (k, c) in enumerate(zip(kinds, cells, strict=True))]
    return SymbolLayout(fft, tuple(kinds), tuple(cells), gi, pattern, boost, cred, tr)
