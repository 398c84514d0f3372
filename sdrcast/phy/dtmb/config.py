"""DTMB transmission configuration (GB 20600-2006): header, body, constellation, LDPC rate,
time interleaver. Derived frame geometry and the payload bit rate are properties."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from sdrcast.config import from_mapping, load_mapping, require_one_of
from sdrcast.errors import ConfigError

HEADERS = {"pn420": 420, "pn595": 595, "pn945": 945}
CONSTELLATIONS = {"4QAM-NR": 1, "4QAM": 2, "16QAM": 4, "32QAM": 5, "64QAM": 6}
RATES = (0.4, 0.6, 0.8)
INFO_BITS = {0.4: 3048, 0.6: 4572, 0.8: 6096}
SYMBOL_RATE = 7.56e6
DATA_SYMBOLS = 3744
BODY_SYMBOLS = 3780
CODEWORD_BITS = 7488
TS_BYTES_PER_BCH = 94  # 752 bits
# SI vector index (Appendix G, numbered as dtmb-sdr): first odd index of each (mode 1, mode 2) pair
_SI_PAIR = {("4QAM-NR", 0.8): 3, ("4QAM", 0.4): 5, ("4QAM", 0.6): 7, ("4QAM", 0.8): 9,
            ("16QAM", 0.4): 11, ("16QAM", 0.6): 13, ("16QAM", 0.8): 15, ("32QAM", 0.8): 17,
            ("64QAM", 0.4): 19, ("64QAM", 0.6): 21, ("64QAM", 0.8): 23}


@dataclass(frozen=True)
class DtmbConfig:
    """``header``: pn420 | pn595 | pn945; ``header_rotating``: PN phase varies per frame (PN420,
    PN945 only); ``carriers``: 3780 (multicarrier) or 1 (single carrier); ``constellation``:
    4QAM-NR | 4QAM | 16QAM | 32QAM | 64QAM; ``ldpc_rate``: 0.4 | 0.6 | 0.8;
    ``interleaver_mode``: 1 (M = 240) or 2 (M = 720); ``header_power_ratio``: header/body average
    power (default 2 for PN420/PN945, 1 for PN595); ``sample_rate``: output rate, 7.56e6 for the
    unshaped symbols or a radio rate >= 7.938e6 (e.g. 10e6) for SRRC roll-off 0.05 shaping."""

    header: str = "pn945"
    header_rotating: bool = False
    carriers: int = 3780
    constellation: str = "64QAM"
    ldpc_rate: float = 0.6
    interleaver_mode: int = 2
    header_power_ratio: float | None = None
    sample_rate: float = SYMBOL_RATE

    def __post_init__(self):
        require_one_of("header", self.header, HEADERS)
        require_one_of("carriers", self.carriers, (3780, 1))
        require_one_of("constellation", self.constellation, CONSTELLATIONS)
        require_one_of("ldpc_rate", self.ldpc_rate, RATES)
        require_one_of("interleaver_mode", self.interleaver_mode, (1, 2))
        if self.header == "pn595" and self.header_rotating:
            raise ConfigError("header_rotating=True is not allowed with header='pn595' "
                              "(PN595 has a constant phase); use pn420 or pn945")
        if (self.constellation, self.ldpc_rate) not in _SI_PAIR:
            allowed = sorted(r for c, r in _SI_PAIR if c == self.constellation)
            raise ConfigError(f"ldpc_rate={self.ldpc_rate} is not allowed with "
                              f"constellation={self.constellation!r}; allowed {allowed}")
        if self.sample_rate != SYMBOL_RATE:
            from sdrcast.phy.dtmb.shaping import _ratio

            _ratio(self.sample_rate)  # raises ConfigError naming the field and what is allowed
        if self.header_power_ratio is not None and self.header_power_ratio <= 0:
            raise ConfigError(f"header_power_ratio={self.header_power_ratio} must be positive")

    @classmethod
    def load(cls, path) -> DtmbConfig:
        return from_mapping(cls, load_mapping(path))

    # derived geometry -------------------------------------------------------------------
    @property
    def header_symbols(self) -> int:
        return HEADERS[self.header]

    @property
    def frame_symbols(self) -> int:
        return self.header_symbols + BODY_SYMBOLS

    @property
    def power_ratio(self) -> float:
        if self.header_power_ratio is not None:
            return self.header_power_ratio
        return 1.0 if self.header == "pn595" else 2.0

    @property
    def ldpc_bits_per_frame(self) -> int:
        """Coded bits carried by one frame's 3744 data symbols (4QAM-NR: 2 per 2 coded bits)."""
        return DATA_SYMBOLS * CONSTELLATIONS[self.constellation]

    @property
    def codewords_per_frame(self) -> Fraction:
        return Fraction(self.ldpc_bits_per_frame, CODEWORD_BITS)

    @property
    def frames_per_group(self) -> int:
        """Frames holding a whole number of codewords (2 for 32QAM and 4QAM-NR, else 1)."""
        return self.codewords_per_frame.denominator

    @property
    def bch_blocks_per_frame(self) -> int:
        per_cw = INFO_BITS[self.ldpc_rate] // 762
        return int(self.codewords_per_frame * per_cw)

    @property
    def ts_bytes_per_frame(self) -> int:
        return self.bch_blocks_per_frame * TS_BYTES_PER_BCH

    @property
    def payload_bitrate(self) -> float:
        """TS bits per second."""
        return self.ts_bytes_per_frame * 8 * SYMBOL_RATE / self.frame_symbols

    @property
    def si_index(self) -> int:
        """Appendix G system-information vector index (1..64, as numbered by dtmb-sdr)."""
        return _SI_PAIR[(self.constellation, self.ldpc_rate)] + (self.interleaver_mode - 1)

    @property
    def interleaver_unit(self) -> int:
        return 240 if self.interleaver_mode == 1 else 720


# The seven modes recommended for deployment, by payload rate (Mbit/s): 9.626, 10.396, 14.438,
# 20.791, 21.658, 24.365, 25.989 (J. Song, ITU-ADS symposium, as cited in research/performance.md;
# the pairing of each rate with a header/body is the one that gives that rate)
PRESETS = {
    "mode1": DtmbConfig("pn945", False, 3780, "16QAM", 0.4, 2),
    "mode2": DtmbConfig("pn595", False, 1, "4QAM", 0.8, 2),
    "mode3": DtmbConfig("pn945", False, 3780, "16QAM", 0.6, 2),
    "mode4": DtmbConfig("pn595", False, 1, "16QAM", 0.8, 2),
    "mode5": DtmbConfig("pn945", False, 3780, "64QAM", 0.6, 2),
    "mode6": DtmbConfig("pn420", False, 3780, "64QAM", 0.6, 2),
    "mode7": DtmbConfig("pn595", False, 1, "32QAM", 0.8, 2),
}
