"""The cell-acquisition subframe (CAS) of an MBMS-dedicated cell: subframe 0 of every radio
frame with SFN mod 4 = 0, 15 kHz, carrying PSS, SSS, the cell-specific reference signals of
port 0, PBCH (MIB-MBMS) and, for system information, PCFICH, PDCCH (DCI 1A, SI-RNTI) and the
PDSCH with SIB1-MBMS (3GPP TS 36.211 6.1, 6.6, 6.7, 6.8, 6.10.1, 6.11; 36.321 5.3.1)."""
from __future__ import annotations

import numpy as np

from sdrcast.phy.fembms import pbch, signals
from sdrcast.phy.fembms.control import SI_RNTI, ControlRegion
from sdrcast.phy.fembms.pdsch import SiPdsch
from sdrcast.phy.fembms.tables import constellation
from sdrcast.phy.kernels.prbs import gold

FILL_C_INIT = 0x2AAAA  # the pseudo-random QPSK on PDSCH resource blocks nothing is scheduled on


def si_redundancy_version(sfn: int) -> int:
    """rv = ceil(3 k / 2) mod 4, k = (SFN / 2) mod 4 (36.321 5.3.1, system information)."""
    return -(-3 * ((sfn // 2) % 4) // 2) % 4


def grid(pci: int, n_rb: int, normal_cp: bool, pbch_symbols: np.ndarray) -> np.ndarray:
    """``[14 or 12, 12 N_RB]`` complex64 with PSS, SSS, CRS and one PBCH segment."""
    n_symb = 7 if normal_cp else 6
    g = signals.crs_grid(pci, n_rb, normal_cp).copy()
    k = signals.sync_positions(n_rb)
    g[n_symb - 1, k] = signals.pss(pci)
    g[n_symb - 2, k] = signals.sss(pci, 0)
    ls, ks = pbch.resource_elements(pci, n_rb, normal_cp)
    g[ls, ks] = pbch_symbols
    return g


class CellAcquisition:
    """The CAS of one cell: ``grid(sfn, mib, sib)`` for the frames with SFN mod 4 = 0.
    ``fill``: the PDSCH resource blocks left free carry pseudo-random QPSK, so every CAS
    has the same power (the 5G-MAG transmitter fills them with random QPSK too)."""

    def __init__(self, pci: int, n_rb: int, normal_cp: bool = False, cfi: int = 2,
                 si: SiPdsch | None = None, fill: bool = True):
        self.pci, self.n_rb, self.normal_cp, self.fill = pci, n_rb, normal_cp, fill
        self.control = ControlRegion(pci, n_rb, normal_cp, cfi)
        self.si = si or SiPdsch(pci, n_rb, normal_cp, cfi)
        self.free = self._free_pdsch()

    def _free_pdsch(self) -> tuple[np.ndarray, np.ndarray]:
        """PDSCH resource elements outside the system information's resource blocks."""
        from sdrcast.phy.fembms.pdsch import positions

        ls, ks = positions(self.pci, self.n_rb, self.normal_cp, self.control.symbols, 0, self.n_rb)
        a, b = 12 * self.si.start, 12 * (self.si.start + self.si.length)
        keep = (ks < a) | (ks >= b)
        return ls[keep], ks[keep]

    def grid(self, sfn: int, mib: np.ndarray, sib: bytes | None) -> np.ndarray:
        """The CAS of frame ``sfn`` (a multiple of 4): PBCH segment (SFN / 4) mod 4 of the MIB-MBMS
        bits ``mib``; the SIB1-MBMS message bytes ``sib`` with its DCI (None: no SI)."""
        g = grid(self.pci, self.n_rb, self.normal_cp,
                 pbch.segments(mib, self.pci, self.normal_cp)[(sfn // 4) % 4])
        c = self.control
        g[c.positions(c.pcfich)] = c.pcfich_symbols()
        if sib is not None:
            rv = si_redundancy_version(sfn)
            g[c.positions(c.pdcch)] = c.pdcch_symbols([(self.si.dci(rv), SI_RNTI, 0, 4)])
            g[self.si.res] = self.si.symbols(sib, rv)
        if self.fill:
            n = self.free[0].size
            g[self.free] = constellation(2).map(gold(FILL_C_INIT + sfn, 2 * n))
        return g
