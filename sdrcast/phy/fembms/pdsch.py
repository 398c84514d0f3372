"""System information on the PDSCH of the cell-acquisition subframe (3GPP TS 36.212 5.3.3.1.3
DCI format 1A, 36.213 7.1.7 with SI-RNTI, 36.211 6.3-6.4): SIB1-MBMS in a transport block of
TBS(I_TBS = I_MCS, N_PRB^1A = 2 or 3), QPSK, scrambled with the RNTI, on contiguous resource
blocks around the reference signals, PBCH and synchronisation signals."""
from __future__ import annotations

import numpy as np

from sdrcast.config import require_range
from sdrcast.errors import ConfigError, ParseError
from sdrcast.phy.fembms import signals
from sdrcast.phy.fembms.tables import constellation, tbs_table
from sdrcast.phy.fembms.transport import TransportCoding
from sdrcast.phy.kernels.prbs import gold

AMBIGUOUS_SIZES = (12, 14, 16, 20, 24, 26, 32, 40, 44, 56)  # 36.212 5.3.3.1.2


def riv(n_rb: int, start: int, length: int) -> int:
    """Resource indication value of ``length`` contiguous RBs from ``start`` (36.213 7.1.6.3)."""
    if length - 1 <= n_rb // 2:
        return n_rb * (length - 1) + start
    return n_rb * (n_rb - length + 1) + (n_rb - 1 - start)


def dci_1a(n_rb: int, start: int, length: int, mcs: int, rv: int, n_prb_1a: int = 3) -> np.ndarray:
    """DCI format 1A for SI-RNTI: format flag 1, localized, RIV, MCS, HARQ 0, NDI 0, RV, TPC
    (its LSB picks the N_PRB^1A column: 2 or 3), padded off the ambiguous sizes."""
    fields = [(1, 1), (0, 1), (riv(n_rb, start, length), int(np.ceil(np.log2(n_rb * (n_rb + 1) / 2)))),
              (mcs, 5), (0, 3), (0, 1), (rv, 2), (n_prb_1a - 2, 2)]
    bits = [(v >> (w - 1 - i)) & 1 for v, w in fields for i in range(w)]
    if len(bits) in AMBIGUOUS_SIZES:
        bits.append(0)
    return np.array(bits, np.uint8)


def parse_dci_1a(bits: np.ndarray, n_rb: int) -> dict:
    """DCI format 1A bits (SI-RNTI) -> {start, length, mcs, rv, n_prb_1a} (localized only)."""
    w = int(np.ceil(np.log2(n_rb * (n_rb + 1) / 2)))
    if len(bits) < w + 15:
        raise ParseError(f"DCI 1A of {len(bits)} bits: {n_rb} RBs need at least {w + 15}")

    def val(a, n):
        return int("".join(map(str, bits[a:a + n])), 2)
    if bits[0] != 1 or bits[1] != 0:
        raise ParseError("DCI is not format 1A with localized allocation (flag, VRB bits)")
    riv_ = val(2, w)
    length, start = riv_ // n_rb + 1, riv_ % n_rb
    if start + length > n_rb:  # the other branch of 7.1.6.3
        length, start = n_rb - length + 2, n_rb - 1 - start
    if not (1 <= length and start + length <= n_rb):
        raise ParseError(f"DCI 1A RIV {riv_} gives no allocation inside {n_rb} RBs")
    p = 2 + w
    return {"start": start, "length": length, "mcs": val(p, 5), "rv": val(p + 9, 2),
            "n_prb_1a": 2 + (bits[p + 12] & 1)}


def positions(pci: int, n_rb: int, normal_cp: bool, cfi: int, start: int, length: int,
              ) -> tuple[np.ndarray, np.ndarray]:
    """(symbols, subcarriers) of the PDSCH in subframe 0 on RBs ``start..start+length-1``,
    subcarrier first, then symbol: not the control region, the CRS of port 0, nor the 72
    central subcarriers in the PBCH and synchronisation symbols."""
    n_symb = 7 if normal_cp else 6
    free = signals.crs_grid(pci, n_rb, normal_cp) == 0
    free[:cfi] = False
    free[:, :12 * start] = False
    free[:, 12 * (start + length):] = False
    centre = slice(6 * n_rb - 36, 6 * n_rb + 36)
    free[n_symb - 2:n_symb + 4, centre] = False  # SSS, PSS, PBCH
    return np.nonzero(free)


class SiPdsch:
    """SIB bytes on the PDSCH: ``mcs`` (I_TBS), ``length`` RBs from ``start`` (default 8, all of
    a 1.4 MHz carrier), after the control region (CFI symbols, one more at 10 RBs or fewer)."""

    def __init__(self, pci: int, n_rb: int, normal_cp: bool, cfi: int = 2, start: int = 0,
                 length: int | None = None, mcs: int = 4, n_prb_1a: int = 3, rnti: int = 0xFFF9):
        length = min(8, n_rb) if length is None else length
        require_range("mcs", mcs, 0, 26)
        if start + length > n_rb or length < 1:
            raise ConfigError(f"SI PDSCH on RBs {start}..{start + length - 1}: the carrier has {n_rb}")
        self.pci, self.n_rb, self.normal_cp, self.cfi = pci, n_rb, normal_cp, cfi
        self.start, self.length, self.mcs, self.n_prb_1a, self.rnti = start, length, mcs, n_prb_1a, rnti
        self.tbs = int(tbs_table()[mcs, n_prb_1a - 1])
        self.res = positions(pci, n_rb, normal_cp, cfi + (1 if n_rb <= 10 else 0), start, length)

    def dci(self, rv: int) -> np.ndarray:
        return dci_1a(self.n_rb, self.start, self.length, self.mcs, rv, self.n_prb_1a)

    def symbols(self, message: bytes, rv: int) -> np.ndarray:
        """The message, zero-padded to the TBS, coded at ``rv`` -> QPSK symbols for ``res``."""
        if 8 * len(message) > self.tbs:
            raise ConfigError(f"system information of {len(message)} bytes exceeds the TBS of "
                              f"{self.tbs} bits (MCS {self.mcs}, N_PRB^1A {self.n_prb_1a})")
        bits = np.unpackbits(np.frombuffer(message.ljust(self.tbs // 8, b"\0"), np.uint8))
        G = 2 * self.res[0].size
        e = TransportCoding(self.tbs, G, 2, rv).encode(bits)
        return constellation(2).map(e ^ self.scrambling)

    @property
    def scrambling(self) -> np.ndarray:
        return gold(self.rnti * 2 ** 14 + self.pci, 2 * self.res[0].size)  # q = 0, slot 0

    def decode(self, symbols: np.ndarray, noise_var, rv: int) -> bytes | None:
        """Equalised PDSCH symbols -> the message bytes (TBS long), None if the CRC fails."""
        llr = constellation(2).demap(symbols, noise_var) * (1 - 2.0 * self.scrambling).astype(np.float32)
        bits, ok, _ = TransportCoding(self.tbs, llr.size, 2, rv).decode(llr, 8)
        return np.packbits(bits).tobytes() if ok else None
