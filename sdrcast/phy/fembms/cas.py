"""The cell-acquisition subframe (CAS) of an MBMS-dedicated cell: subframe 0 of every radio
frame with SFN mod 4 = 0, 15 kHz, carrying PSS, SSS, the cell-specific reference signals of
port 0, PBCH (MIB-MBMS) and — when system information is sent — PCFICH, PDCCH and the PDSCH
with SIB1-MBMS (3GPP TS 36.211 6.1, 6.6, 6.10.1, 6.11)."""
from __future__ import annotations

import numpy as np

from sdrcast.phy.fembms import pbch, signals


def grid(pci: int, n_rb: int, normal_cp: bool, pbch_symbols: np.ndarray) -> np.ndarray:
    """``[14 or 12, 12 N_RB]`` complex64 with PSS, SSS, CRS and one PBCH segment."""
    n_symb = 7 if normal_cp else 6
    g = np.zeros((2 * n_symb, 12 * n_rb), np.complex64)
    k = signals.sync_positions(n_rb)
    g[n_symb - 1, k] = signals.pss(pci)
    g[n_symb - 2, k] = signals.sss(pci, 0)
    for slot in (0, 1):
        for l, v in ((0, 0), (n_symb - 3, 3)):
            kk, val = signals.crs(pci, n_rb, slot, l, normal_cp, v)
            g[slot * n_symb + l, kk] = val
    ls, ks = pbch.resource_elements(pci, n_rb, normal_cp)
    g[ls, ks] = pbch_symbols
    return g
