"""Reference and synchronisation signals (3GPP TS 36.211 6.10, 6.11), as values and subcarrier
indices in a grid of 12 N_RB (15 kHz) or n_sc N_RB subcarriers, lowest frequency first.

Every pseudo-random sequence is ``kernels.prbs.gold`` with the clause's c_init (the shared
``sequences_36211.json`` lists each)."""
from __future__ import annotations

from functools import cache

import numpy as np

from sdrcast.phy.fembms.tables import npz
from sdrcast.phy.kernels.prbs import gold

N_RB_MAX = 110


def qpsk_sequence(c_init: int, n: int, offset: int = 0) -> np.ndarray:
    """r(m) = ((1 - 2 c(2m)) + j (1 - 2 c(2m + 1))) / sqrt 2 for m = offset..offset + n - 1."""
    c = gold(c_init, 2 * (offset + n)).astype(np.float32)[2 * offset:]
    return ((1 - 2 * c[0::2]) + 1j * (1 - 2 * c[1::2])).astype(np.complex64) / np.float32(np.sqrt(2))


def sync_positions(n_rb: int) -> np.ndarray:
    """The 62 subcarriers of PSS and SSS around DC (6.11.1.2: k = n - 31 + N_RB N_sc / 2)."""
    return np.arange(62) - 31 + 6 * n_rb


def pss(pci: int) -> np.ndarray:
    """d_u(n) of N_ID^(2) = pci mod 3 (Zadoff-Chu, roots 25/29/34)."""
    return npz("sync_signals_36211_6_11.npz")["pss_d_u_n"][pci % 3].astype(np.complex64)


def sss(pci: int, subframe: int = 0) -> np.ndarray:
    key = "sss_subframe0" if subframe == 0 else "sss_subframe5"
    return npz("sync_signals_36211_6_11.npz")[key][pci].astype(np.complex64)


def crs(pci: int, n_rb: int, slot: int, l: int, normal_cp: bool, v: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell-specific reference signal of antenna port 0 (v = 0) or its second symbol (v = 3)
    in symbol ``l`` of ``slot``: (subcarriers, values) (6.10.1)."""
    c_init = 2 ** 10 * (7 * (slot + 1) + l + 1) * (2 * pci + 1) + 2 * pci + int(normal_cp)
    k = 6 * np.arange(2 * n_rb) + (v + pci % 6) % 6
    return k, qpsk_sequence(c_init, 2 * n_rb, N_RB_MAX - n_rb)


@cache
def crs_grid(pci: int, n_rb: int, normal_cp: bool) -> np.ndarray:
    """Subframe 0's cell-specific reference signals of port 0 on its ``[14 or 12, 12 N_RB]``
    grid (symbols 0 and N_symb - 3 of each slot), zero elsewhere; read-only."""
    n_symb = 7 if normal_cp else 6
    g = np.zeros((2 * n_symb, 12 * n_rb), np.complex64)
    for slot in (0, 1):
        for l, v in ((0, 0), (n_symb - 3, 3)):
            k, val = crs(pci, n_rb, slot, l, normal_cp, v)
            g[slot * n_symb + l, k] = val
    g.flags.writeable = False
    return g


def mbsfn_rs(area: int, n_rb: int, slot: int, l: int, first: int, step: int,
             per_rb: int) -> tuple[np.ndarray, np.ndarray]:
    """MBSFN reference signal (6.10.2): ``per_rb`` values per resource block at subcarriers
    ``first + step m``; c_init = 2^9 (7 (n_s + 1) + l + 1) (2 N_ID^MBSFN + 1) + N_ID^MBSFN and
    m' = m + 3 (110 - N_RB) for every numerology, as the 5G-MAG transmitter and modem have it
    (the shared tables note that 36.211 may scale the offset at 1.25 kHz)."""
    c_init = 2 ** 9 * (7 * (slot + 1) + l + 1) * (2 * area + 1) + area
    m = per_rb * n_rb
    return first + step * np.arange(m), qpsk_sequence(c_init, m, 3 * (N_RB_MAX - n_rb))
