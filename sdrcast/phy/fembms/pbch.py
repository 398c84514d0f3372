"""PBCH of an MBMS-dedicated cell (3GPP TS 36.212 5.3.1, 36.211 6.6): the 24-bit MIB-MBMS with
CRC16 (antenna-port mask 0: one port), tail-biting convolutional code, rate matching to E bits
(1920 normal CP, 1728 extended), scrambling with c_init = N_ID_cell + 2^9, QPSK, and four
segments sent in the cell-acquisition subframes of a 160 ms BCH TTI (SFN mod 16 = 0, 4, 8, 12);
and their resource elements in slot 1 of the subframe."""
from __future__ import annotations

import numpy as np

from sdrcast.phy.crc import CRC16_LTE
from sdrcast.phy.fec.convolutional import ConvCode
from sdrcast.phy.fec.rate_matching import RateMatcher
from sdrcast.phy.fembms.tables import constellation
from sdrcast.phy.kernels.prbs import gold

MIB_BITS = 24


def coded_bits(mib: np.ndarray, normal_cp: bool) -> np.ndarray:
    """MIB-MBMS bits -> the E rate-matched bits of one BCH TTI (before scrambling)."""
    c = CRC16_LTE.attach(np.asarray(mib, np.uint8))
    E = 1920 if normal_cp else 1728
    return RateMatcher.conv(c.size, E).match(ConvCode.lte().encode(c))


def segments(mib: np.ndarray, pci: int, normal_cp: bool) -> np.ndarray:
    """MIB-MBMS bits -> ``[4, E / 8]`` QPSK symbols, segment i for SFN mod 16 = 4 i."""
    e = coded_bits(mib, normal_cp)
    return constellation(2).map(e ^ gold(pci + 512, e.size)).reshape(4, -1)


def resource_elements(pci: int, n_rb: int, normal_cp: bool) -> tuple[np.ndarray, np.ndarray]:
    """(symbol in subframe, subcarrier) of every PBCH symbol in mapping order: the 72
    subcarriers around DC in symbols 0-3 of slot 1, k first, skipping the places of antenna
    ports 0-3's reference signals (ports 0/1 in symbols 0 and N_symb - 3, 2/3 in symbol 1)."""
    n_symb = 7 if normal_cp else 6
    k = 6 * n_rb - 36 + np.arange(72)
    rs = (k - pci % 6) % 3 == 0
    ls, ks = [], []
    for l in range(4):
        keep = ~rs if l in (0, 1, n_symb - 3) else np.ones(72, bool)
        ls.append(np.full(keep.sum(), n_symb + l))
        ks.append(k[keep])
    return np.concatenate(ls), np.concatenate(ks)


def decode(symbols: np.ndarray, noise_var, pci: int, normal_cp: bool) -> tuple[np.ndarray, int] | None:
    """One PBCH segment's equalised symbols -> (MIB-MBMS bits, segment index 0-3), trying each
    segment's part of the scrambling sequence; None when no CRC16 holds."""
    E = 1920 if normal_cp else 1728
    llr = constellation(2).demap(symbols, noise_var)
    scr = 1 - 2.0 * gold(pci + 512, E).astype(np.float32)
    rm = RateMatcher.conv(MIB_BITS + 16, E)
    n = llr.size
    for seg in range(4):
        full = np.zeros(E, np.float32)
        full[seg * n:(seg + 1) * n] = llr * scr[seg * n:(seg + 1) * n]
        bits = ConvCode.lte().decode(rm.llrs(full))
        if CRC16_LTE.check(bits):
            return bits[:MIB_BITS], seg
    return None
