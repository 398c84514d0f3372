"""A/322 8.1 pilot insertion: the data cells of each symbol are placed on the active carriers
that are not pilots, lowest frequency first.

* Preamble symbols: preamble pilots every preamble Dx carriers (Dx and boost by FFT and GI),
  continual pilots. The frame's first symbol has the C_red_coeff = 4 carrier count, with the
  continual pilots moved by the band edge difference.
* Data symbols: scattered pilots where ``k mod (Dx Dy) == Dx (l mod Dy)`` (l counted from the
  first payload symbol), continual pilots, edge pilots on the first and last carrier, and the
  pattern's additional pilots (Table D.1.4/D.1.5) at scattered-pilot amplitude.
* Subframe boundary symbols: scattered pilots on every Dx-th carrier, continual and edge pilots.

Pilot values are BPSK ``A (1 - 2 r_k)`` with r_k the reference PRBS (reset each symbol) at the
carrier index and A the boost: preamble Table 8.6, scattered Table 9.16 (by SP boost 0..4),
continual 8.52 dB. Tables: ``ofdm_framing.json``.
"""
from __future__ import annotations

from functools import cache

import numpy as np

from sdrcast.errors import ConfigError
from sdrcast.phy.atsc3.frame_geometry import SymbolLayout, pattern_index, preamble_row, reserved_carriers
from sdrcast.phy.atsc3.tables import ofdm
from sdrcast.phy.kernels.prbs import lfsr_fibonacci


@cache
def reference_prbs(n: int) -> np.ndarray:
    """r_k, k < n: 13-bit LFSR G(x) = 1 + x^9 + x^10 + x^12 + x^13, register 0x1B read out
    from bit 0 (the oldest bit first: the 13 register bits, then the Fibonacci recursion)."""
    first = (0x1B >> np.arange(13)) & 1  # oldest first
    state = int(np.sum(first[::-1].astype(np.int64) << np.arange(13)))  # D1 = the newest bit
    poly = (1 << 13) | (1 << 12) | (1 << 10) | (1 << 9) | 1
    more = lfsr_fibonacci(poly, state, max(n - 13, 0))[0]
    return np.concatenate([first, more])[:n].astype(np.int8)


def noc(fft: int, cred: int) -> int:
    return ofdm()["num_carriers_NoC"][str(fft)][cred]


def _additional(fft: int, pattern: str, cred: int) -> list[int]:
    add = ofdm()["continual_pilots_additional"]
    entry = add["table"].get(f"{fft} {pattern}")
    if entry == "SEE_D15":
        return list(add["D15"][str(cred)])
    if entry is None:
        return []
    return [i for i, odd_off in zip(entry["indices"], entry["not_used_if_cred_odd"], strict=True)
            if not (odd_off and cred % 2)]


@cache
def carrier_map(fft: int, kind: str, payload_index: int, gi: int, pattern: str, boost: int,
                cred: int, tr: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(pilot amplitude per active carrier, 0 on data carriers; data-carrier mask); ``tr``: the
    tone-reservation carriers are not data carriers."""
    tab = ofdm()
    n_max = noc(fft, 0)
    n = noc(fft, 4 if kind == "FP" else cred)
    amp = np.zeros(n, np.float64)
    cp = np.asarray(tab["continual_pilots_common"][str(fft)], np.int64)
    shift = (n_max - n) // 2
    cp = cp[cp > shift] - shift if shift else cp
    amp[cp[cp < n]] = 10 ** (tab["continual_pilot_boost_dB"] / 20)
    sp = tab["scattered_pilot_patterns"][pattern]
    dx, dy = sp["Dx"], sp["Dy"]
    k = np.arange(n)
    if kind in ("FP", "P"):
        row = tab["preamble_pilots"]["rows"][preamble_row(fft, gi, pattern)]
        amp[k % row["preamble_Dx"] == 0] = 10 ** (row["preamble_pilot_boost_dB"] / 20)
    else:
        a_sp = 10 ** (tab["scattered_pilot_boost_dB"]["table"][pattern_index(pattern)][boost] / 20)
        if kind == "SBS":
            amp[k % dx == 0] = a_sp
        else:
            amp[k % (dx * dy) == dx * (payload_index % dy)] = a_sp
        edge = [0, n - 1] + [i for i in _additional(fft, pattern, cred) if i < n]
        amp[edge] = a_sp
    amp *= 1 - 2 * reference_prbs(n).astype(np.float64)
    data = amp == 0
    if tr:
        data[reserved_carriers(fft, kind, payload_index, gi, pattern, cred)] = False
    return amp.astype(np.complex64), data


def symbol_map(layout: SymbolLayout, j: int) -> tuple[np.ndarray, np.ndarray]:
    """``carrier_map`` of symbol ``j`` of a subframe's grid."""
    lay = layout
    return carrier_map(lay.fft, lay.kinds[j], j - lay.n_preamble, lay.gi, lay.pattern, lay.boost,
                       lay.cred, lay.tr)


def insert(cells: np.ndarray, layout: SymbolLayout) -> tuple[list[np.ndarray], int]:
    """Frequency-interleaved frame cells -> the active carriers of every symbol, and the number
    of data carriers left empty at the end.

    Cells fill the data carriers symbol after symbol as one stream. With the tables available
    (Table D.1.4 as transcribed, no additional pilots for 32K Dy=4 patterns) some 32K data
    symbols have up to three data carriers more than Table 7.4's cell count; gr-atsc3 then
    carries cells over into the next symbol and leaves the last carriers of the frame at zero.
    sdrcast does the same (bit-exact with gr-atsc3) and returns that count, so it is never silent.
    """
    cells = np.asarray(cells, np.complex64)
    out, a = [], 0
    for j in range(len(layout.kinds)):
        amp, data = symbol_map(layout, j)
        idx = np.flatnonzero(data)
        take = cells[a:a + idx.size]
        sym = amp.copy()
        sym[idx[:take.size]] = take
        sym[idx[take.size:]] = 0
        out.append(sym)
        a += take.size
    if a < cells.size:
        raise ConfigError(f"pilot maps leave {a} data carriers for {cells.size} frame cells "
                          f"({layout.fft}, {layout.pattern}, C_red_coeff {layout.cred})")
    capacity = sum(int(symbol_map(layout, j)[1].sum()) for j in range(len(layout.kinds)))
    return out, capacity - cells.size


def extract(symbols: list[np.ndarray], layout: SymbolLayout) -> np.ndarray:
    """Active carriers per symbol -> the frame's data cells in order (inverse of ``insert``; data
    carriers ``insert`` left empty at the end come out too)."""
    return np.concatenate([np.asarray(x)[symbol_map(layout, j)[1]]
                           for j, x in enumerate(symbols)])
