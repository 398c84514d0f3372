"""A/322 7.2.3 frequency interleaver. The data cells of each symbol are permuted by addresses
from a pseudo-random sequence R' (degree 12/13/14 LFSR for 8K/16K/32K, R'(0) = R'(1) = 0,
R'(2) = 1), bit-permuted (even/odd symbol tables), with the MSB toggled on odd indices, XORed
with a symbol-pair offset G (an LFSR stepped every second symbol, all ones at the start), and
kept when below the symbol's cell count. 32K even symbols use the inverse of the odd-symbol
permutation. Preamble symbols are always interleaved; data and SBS symbols when the
frequency interleaver is on (``ofdm_framing.json`` ``frequency_interleaver``)."""
from __future__ import annotations

from functools import cache

import numpy as np

from sdrcast.phy.atsc3.frame_geometry import SymbolLayout
from sdrcast.phy.atsc3.tables import ofdm


@cache
def _raw(fft: int) -> tuple[np.ndarray, np.ndarray]:
    """Bit-permuted R' (plus the MSB toggle) for even and odd symbols, before the offset."""
    fi = ofdm()["frequency_interleaver"]
    deg = fi["R_prime_degree"][str(fft)]
    taps = fi["R_prime_lfsr_taps"][str(fft)]
    r = np.zeros(fft, np.int64)
    state = 1
    for j in range(3, fft):
        fb = 0
        for t in taps:
            fb ^= (state >> t) & 1
        state = (state >> 1) | (fb << (deg - 1))
        r[j] = state
    r[2] = 1
    out = []
    for parity in ("even", "odd"):
        perm = fi["bit_permutation"][str(fft)][parity]
        h = np.zeros(fft, np.int64)
        for n, to in enumerate(perm):
            h |= ((r >> n) & 1) << to
        h += (np.arange(fft) % 2) * (fft // 2)
        out.append(h)
    return out[0], out[1]


@cache
def _offsets(fft: int, pairs: int) -> tuple[int, ...]:
    """G for symbol pairs 0..pairs-1 (register of degree + 1 bits, all ones at the start)."""
    fi = ofdm()["frequency_interleaver"]
    deg = fi["R_prime_degree"][str(fft)]
    taps = fi["G_symbol_offset_lfsr_taps"][str(fft)]
    g, out = (1 << (deg + 1)) - 1, []
    for i in range(pairs):
        if i:
            fb = 0
            for t in taps:
                fb ^= (g >> t) & 1
            g = ((g & ((1 << (deg + 1)) - 1)) >> 1) | (fb << deg)
        out.append(g)
    return tuple(out)


@cache
def addresses(fft: int, symbol: int, cells: int) -> np.ndarray:
    """Input index of each output cell of symbol ``symbol`` (of ``cells`` data cells)."""
    even, odd = _raw(fft)
    g = _offsets(fft, symbol // 2 + 1)[symbol // 2]
    if fft == 32768 and symbol % 2 == 0:  # inverse of the odd-symbol map
        h = odd ^ g
        h = h[h < cells]
        inv = np.empty(cells, np.int64)
        inv[h] = np.arange(cells)
        return inv
    h = (even if symbol % 2 == 0 else odd) ^ g
    return h[h < cells]


def interleave(cells: np.ndarray, layout: SymbolLayout, all_symbols: bool = True) -> np.ndarray:
    """Frame cells (symbol after symbol) -> frequency-interleaved, same layout."""
    cells = np.asarray(cells, np.complex64)
    out = np.empty_like(cells)
    fft = layout.fft
    a = 0
    for j, (kind, n) in enumerate(zip(layout.kinds, layout.cells, strict=True)):
        seg = cells[a:a + n]
        if kind in ("FP", "P") or all_symbols:
            out[a:a + n] = seg[addresses(fft, j, n)]
        else:
            out[a:a + n] = seg
        a += n
    return out


def deinterleave(cells: np.ndarray, layout: SymbolLayout, all_symbols: bool = True) -> np.ndarray:
    """Inverse of ``interleave`` (receiver side)."""
    cells = np.asarray(cells)
    out = np.empty_like(cells)
    a = 0
    for j, (kind, n) in enumerate(zip(layout.kinds, layout.cells, strict=True)):
        if kind in ("FP", "P") or all_symbols:
            out[a + addresses(layout.fft, j, n)] = cells[a:a + n]
        else:
            out[a:a + n] = cells[a:a + n]
        a += n
    return out
