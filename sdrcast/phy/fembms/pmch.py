"""PMCH (3GPP TS 36.211 6.5, 6.10.2; 36.212 5.3.2; 36.213 7.1.7): transport block size from the
MCS and N_PRB, coding, scrambling with c_init = floor(n_s / 2) 2^9 + N_ID^MBSFN, modulation,
and the MBSFN subframe: MBSFN reference signals on antenna port 4 and the PMCH on every other
resource element, subcarrier first, then symbol."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

from sdrcast.config import require_one_of, require_range
from sdrcast.errors import ConfigError
from sdrcast.phy.fembms import signals
from sdrcast.phy.fembms.numerology import numerology
from sdrcast.phy.fembms.tables import constellation, json_table, tbs_table
from sdrcast.phy.fembms.transport import TransportCoding
from sdrcast.phy.kernels.prbs import gold

# MBSFN RS (6.10.2.2): symbol in subframe -> (slot offset, symbol in slot, first subcarrier);
# subcarrier step and RS per resource block of each numerology
RS_LAYOUT = {
    "15e": ({2: (0, 2, 0), 6: (1, 0, 1), 10: (1, 4, 0)}, 2, 6),
    "7.5": ({1: (0, 1, 0), 3: (1, 0, 2), 5: (1, 2, 0)}, 4, 6),
}
# For channel estimation over consecutive subframes: how many symbols apart one subcarrier's RS
# come back (at most), and the spacing of the subcarriers the RS visit (all RS sets joined)
RS_REVISIT = {"15e": 12, "7.5": 6, "1.25": 2}
RS_LATTICE = {"15e": 1, "7.5": 2, "1.25": 3}


def mcs(index: int, table: str = "64QAM") -> tuple[int, int]:
    """I_MCS -> (Q_m, I_TBS) from 36.213 Table 7.1.7.1-1 ("64QAM") or -1A ("256QAM")."""
    require_one_of("mcs table", table, ("64QAM", "256QAM"))
    key = "table_7_1_7_1_1_64QAM" if table == "64QAM" else "table_7_1_7_1_1A_256QAM"
    rows = {int(r["I_MCS"]): r for r in json_table("mcs_tables_36213.json")[key]
            if r.get("I_TBS") is not None}
    require_one_of("mcs", index, sorted(rows))
    return int(rows[index]["Q_m"]), int(rows[index]["I_TBS"])


def tbs(index: int, n_prb: int, table: str = "64QAM") -> int:
    """Transport block size in bits for I_MCS ``index`` over ``n_prb`` resource blocks."""
    require_range("n_prb", n_prb, 1, 110)
    return int(tbs_table()[mcs(index, table)[1], n_prb - 1])


@dataclass(frozen=True)
class MbsfnSubframe:
    """Resource grid of one MBSFN subframe: numerology ``"15e"``, ``"7.5"`` or ``"1.25"``,
    ``n_rb`` resource blocks, MBSFN area ``area``, subframe number ``sf`` (0-9) and, at 15 kHz,
    a non-MBSFN region of ``region`` symbols (left to the caller)."""

    numerology: str
    n_rb: int
    area: int
    sf: int
    region: int = 0

    def __post_init__(self):
        require_one_of("numerology", self.numerology, ("15e", "7.5", "1.25"))
        require_range("area", self.area, 0, 255)
        require_range("sf", self.sf, 0, 9)
        if self.region and self.numerology != "15e":
            raise ConfigError(f"region={self.region}: a non-MBSFN region exists at 15 kHz only")

    @property
    def shape(self) -> tuple[int, int]:
        return {"15e": (12, 12), "7.5": (6, 24), "1.25": (1, 144)}[self.numerology] * np.array([1, self.n_rb])

    @cached_property
    def reference(self) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """(symbol, subcarriers, values) of every MBSFN RS symbol."""
        if self.numerology == "1.25":
            k, v = signals.mbsfn_rs(self.area, self.n_rb, self.sf, 0, 3 * (self.sf % 2), 6, 24)
            return [(0, k, v)]
        layout, step, per_rb = RS_LAYOUT[self.numerology]
        return [(l, *signals.mbsfn_rs(self.area, self.n_rb, 2 * self.sf + slot, ll, first, step, per_rb))
                for l, (slot, ll, first) in layout.items()]

    @cached_property
    def data_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """(symbols, subcarriers) of the PMCH, in mapping order."""
        free = np.ones(self.shape, bool)
        free[:self.region] = False
        for l, k, _ in self.reference:
            free[l, k] = False
        return np.nonzero(free)

    @property
    def data_res(self) -> int:
        return self.data_positions[0].size

    @cached_property
    def flat_positions(self) -> np.ndarray:
        """``data_positions`` as indices into the flattened grid."""
        return np.ravel_multi_index(self.data_positions, self.shape)

    @cached_property
    def reference_grid(self) -> np.ndarray:
        """The subframe's grid with its MBSFN RS only (read-only)."""
        g = np.zeros(self.shape, np.complex64)
        for l, k, v in self.reference:
            g[l, k] = v
        g.flags.writeable = False
        return g

    def grid(self, symbols: np.ndarray) -> np.ndarray:
        """PMCH symbols (``data_res`` of them) -> the subframe's grid with its reference signals."""
        g = self.reference_grid.copy()
        g.reshape(-1)[self.flat_positions] = symbols
        return g


    def samples(self, grid: np.ndarray, rate: float) -> np.ndarray:
        """The subframe's grid -> its samples. At 15 kHz the non-MBSFN region's symbols keep
        the normal cyclic prefix of the cell's other subframes and the MBSFN symbols start
        where they would in an all-extended-CP subframe (the samples between are zero), as
        the shared 15 kHz vector has it."""
        num = numerology(self.numerology)
        if not self.region:
            return num.modulate(grid, rate)
        out = num.modulate(grid, rate)
        normal = numerology("15").modulate(grid[:self.region], rate)  # prefixes 160, 144 Ts
        sym = num.fft_size(rate) + num.prefixes(rate)[0]
        out[:self.region * sym] = 0
        out[:normal.size] = normal
        return out


class Pmch:
    """One PMCH transport block per MBSFN subframe: I_MCS ``mcs_index`` from ``table``.
    ``Pmch.cached(...)`` keeps the objects (scrambling, coding, positions) for reuse."""

    @staticmethod
    @cache
    def cached(numerology: str, n_rb: int, area: int, sf: int, mcs_index: int, table: str = "64QAM") -> Pmch:
        return Pmch(MbsfnSubframe(numerology, n_rb, area, sf), mcs_index, table)

    def __init__(self, sub: MbsfnSubframe, mcs_index: int, table: str = "64QAM"):
        self.sub = sub
        self.qm, _ = mcs(mcs_index, table)
        self.tbs = tbs(mcs_index, sub.n_rb, table)
        self.coding = TransportCoding(self.tbs, sub.data_res * self.qm, self.qm)
        self.scrambling = gold(sub.sf * 512 + sub.area, self.coding.G)

    def symbols(self, tb: bytes | np.ndarray) -> np.ndarray:
        """Transport block (bytes, MSB first, or bits) -> modulation symbols."""
        bits = np.unpackbits(np.frombuffer(bytes(tb), np.uint8)) if isinstance(tb, bytes | bytearray) \
            else np.asarray(tb, np.uint8)
        if bits.size != self.tbs:
            raise ConfigError(f"PMCH transport block has {bits.size} bits; MCS and N_PRB give {self.tbs}")
        return constellation(self.qm).map(self.coding.encode(bits) ^ self.scrambling)

    def grid(self, tb) -> np.ndarray:
        return self.sub.grid(self.symbols(tb))

    def decode(self, symbols: np.ndarray, noise_var, iterations: int = 6) -> tuple[bytes, bool, list[int]]:
        """Equalised PMCH symbols (and their noise variance) -> (transport block, CRC held,
        turbo iterations per code block). An all-zero block is refused though its CRC holds:
        it is what a subframe without signal decodes to, and no MAC PDU is all zeros."""
        llr = constellation(self.qm).demap(symbols, noise_var)
        llr *= (1 - 2.0 * self.scrambling).astype(np.float32)
        bits, ok, its = self.coding.decode(llr, iterations)
        return np.packbits(bits).tobytes(), ok and bool(bits.any()), its
