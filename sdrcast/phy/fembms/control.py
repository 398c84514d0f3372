"""The control region of the cell-acquisition subframe (3GPP TS 36.211 6.2.4, 6.7, 6.8, 6.9;
36.212 5.3.3, 5.3.4): resource-element groups, PCFICH with the CFI, the PHICH groups' REGs
(reserved, empty: an MBMS-dedicated cell has no uplink to acknowledge) and the PDCCH with its
quadruplet interleaver, cyclic shift and scrambling, carrying DCI format 1A.

PHICH: an MBMS-dedicated cell has no uplink, and the shared 40 ms carrier (from the 5G-MAG
transmitter, received by rt-mbms-modem) reserves no PHICH REGs (``ng="none"``, the default: the
PDCCH REGs found in it match only that); groups of Ng = 1/6..2 can be reserved for receivers
that expect them."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sdrcast.config import require_one_of
from sdrcast.phy.crc import CRC16_LTE
from sdrcast.phy.fec.convolutional import ConvCode
from sdrcast.phy.fec.rate_matching import RateMatcher
from sdrcast.phy.fembms.tables import constellation
from sdrcast.phy.kernels.prbs import gold
from sdrcast.phy.tables import load_json

PHICH_NG = {"none": 0.0, "1/6": 1 / 6, "1/2": 1 / 2, "1": 1.0, "2": 2.0}
SI_RNTI = 0xFFF9


def pcfich_scrambling(pci: int) -> np.ndarray:
    """36.211 6.7.1 in subframe 0: c_init = (floor(n_s / 2) + 1)(2 N_ID + 1) 2^9 + N_ID."""
    return gold((2 * pci + 1) * 2 ** 9 + pci, 32)


def pdcch_scrambling(pci: int, n: int) -> np.ndarray:
    """36.211 6.8.2 in subframe 0: c_init = floor(n_s / 2) 2^9 + N_ID."""
    return gold(pci, n)


def cfi_codeword(cfi: int) -> np.ndarray:
    """36.212 Table 5.3.4-1: the 32-bit CFI codeword (1, 2, 3)."""
    require_one_of("cfi", cfi, (1, 2, 3))
    return np.resize(np.array({1: [0, 1, 1], 2: [1, 0, 1], 3: [1, 1, 0]}[cfi], np.uint8), 32)


@dataclass(frozen=True)
class ControlRegion:
    """REGs of subframe 0 for a cell of ``n_rb`` resource blocks, one antenna port, ``cfi``
    control symbols (N_RB > 10) and PHICH resource ``ng`` of normal duration (``"none"``: no
    PHICH)."""

    pci: int
    n_rb: int
    normal_cp: bool
    cfi: int = 2
    ng: str = "none"

    def __post_init__(self):
        require_one_of("cfi", self.cfi, (1, 2, 3))
        require_one_of("phich_ng", self.ng, list(PHICH_NG))

    @property
    def symbols(self) -> int:
        """OFDM symbols of the control region: CFI, one more on carriers of 10 RBs or fewer."""
        return self.cfi + (1 if self.n_rb <= 10 else 0)

    @cached_property
    def regs(self) -> list[tuple[int, int, tuple[int, ...]]]:
        """Every REG of the first three symbols as (symbol, first subcarrier, its 4
        subcarriers), ordered by
        first subcarrier, then symbol (6.2.4): symbol 0 has two REGs of 6 subcarriers per
        RB around the reference signals, symbols 1-2 three of 4."""
        vo = self.pci % 3
        out = []
        for rb in range(self.n_rb):
            k0 = 12 * rb
            for j in range(3):
                for l in range(4 if self.n_rb <= 10 else 3):
                    if l == 3 and j == 1 and not self.normal_cp:
                        continue  # extended CP: symbol 3 holds reference signals, two REGs per RB
                    if l == 0 or (l == 3 and not self.normal_cp):
                        if j == 1:
                            continue
                        base = k0 + 6 * (j // 2)
                        out.append((base, l, tuple(base + i for i in range(6) if i % 3 != vo)))
                    else:
                        out.append((k0 + 4 * j, l, tuple(k0 + 4 * j + i for i in range(4))))
        out.sort(key=lambda r: (r[0], r[1]))
        return [(l, k0, ks) for k0, l, ks in out]

    @cached_property
    def pcfich(self) -> list[int]:
        """Indices (into ``regs``) of the PCFICH's four REGs (6.7.4)."""
        starts = {(k0, l): i for i, (l, k0, _) in enumerate(self.regs)}
        k_hat = 6 * (self.pci % (2 * self.n_rb))
        return [starts[((k_hat + (i * self.n_rb // 2) * 6) % (12 * self.n_rb), 0)] for i in range(4)]

    @cached_property
    def phich(self) -> list[int]:
        """Indices of the REGs of every PHICH mapping unit (6.9.3, normal duration)."""
        units = int(np.ceil(PHICH_NG[self.ng] * self.n_rb / 8))
        free0 = [i for i, (l, _, _) in enumerate(self.regs) if l == 0 and i not in self.pcfich]
        n0 = len(free0)
        return [free0[(self.pci * n0 // n0 + m + i * n0 // 3) % n0] for m in range(units) for i in range(3)]

    @cached_property
    def pdcch(self) -> list[int]:
        """REG index receiving each PDCCH quadruplet (6.8.5): the free REGs of the control
        symbols, quadruplets through the 32-column sub-block interleaver, shifted by N_ID."""
        taken = set(self.pcfich) | set(self.phich)
        free = [i for i, (l, _, _) in enumerate(self.regs) if l < self.symbols and i not in taken]
        m = len(free)
        perm = load_json("fec", "lte_coding_36212.json")["subblock_interleaver_conv_36212_t5_1_4_2"][
            "column_permutation"]
        rows = -(-m // 32)
        dummy = 32 * rows - m
        order = [r * 32 + c - dummy for c in perm for r in range(rows) if r * 32 + c >= dummy]
        target = np.empty(m, np.int64)
        for k, quad in enumerate(order):
            target[quad] = free[(k - self.pci) % m]
        return target[:m // 9 * 9].tolist()

    @property
    def cces(self) -> int:
        return len(self.pdcch) // 9

    def positions(self, reg_indices) -> tuple[np.ndarray, np.ndarray]:
        """(symbols, subcarriers) of the REs of those REGs, 4 per REG in order."""
        ls = np.repeat([self.regs[i][0] for i in reg_indices], 4)
        ks = np.concatenate([self.regs[i][2] for i in reg_indices]) if len(reg_indices) else np.zeros(0, int)
        return ls, ks

    def pcfich_symbols(self) -> np.ndarray:
        return constellation(2).map(cfi_codeword(self.cfi) ^ pcfich_scrambling(self.pci))

    def pdcch_symbols(self, dcis: list[tuple[np.ndarray, int, int, int]]) -> np.ndarray:
        """DCIs as (payload bits, RNTI, first CCE, aggregation level) -> the symbols of every
        PDCCH quadruplet, <NIL> CCEs at zero (36.212 5.3.3, 36.211 6.8.2-6.8.3)."""
        bits = np.zeros(72 * self.cces, np.uint8)
        used = np.zeros(bits.size, bool)
        for payload, rnti, cce, level in dcis:
            a = 72 * cce
            bits[a:a + 72 * level] = dci_coded(payload, rnti, 72 * level)
            used[a:a + 72 * level] = True
        sym = constellation(2).map(bits ^ pdcch_scrambling(self.pci, bits.size))
        return np.where(used[::2], sym, 0).astype(np.complex64)


def dci_coded(payload: np.ndarray, rnti: int, E: int) -> np.ndarray:
    """DCI bits -> CRC16 masked with the RNTI -> tail-biting code -> rate matching to E bits."""
    c = CRC16_LTE.attach(np.asarray(payload, np.uint8))
    c[-16:] ^= (rnti >> np.arange(15, -1, -1) & 1).astype(np.uint8)
    return RateMatcher.conv(c.size, E).match(ConvCode.lte().encode(c))


def decode_cfi(symbols: np.ndarray, pci: int) -> int:
    """The 16 PCFICH symbols (equalised) -> the CFI whose codeword correlates best."""
    soft = np.empty(32, np.float32)
    soft[0::2], soft[1::2] = symbols.real, symbols.imag
    soft *= 1 - 2.0 * pcfich_scrambling(pci)
    return max((1, 2, 3), key=lambda c: float(np.dot(soft, 1 - 2.0 * cfi_codeword(c))))


def decode_dci(llr: np.ndarray, size: int, rnti: int, levels=(4, 8)) -> tuple[np.ndarray, int, int] | None:
    """Descrambled PDCCH LLRs (all CCEs) -> (DCI bits, first CCE, level) of the first common
    search-space candidate whose CRC masked with ``rnti`` holds (36.213 9.1.1); None if none."""
    mask = (rnti >> np.arange(15, -1, -1) & 1).astype(np.uint8)
    cces = llr.size // 72
    for level in levels:
        for first in range(0, min(cces, 16) - level + 1, level):
            part = llr[72 * first:72 * (first + level)]
            bits = ConvCode.lte().decode(RateMatcher.conv(size + 16, part.size).llrs(part))
            if np.array_equal(CRC16_LTE.parity(bits[:size]) ^ mask, bits[size:]):
                return bits[:size], first, level
    return None
