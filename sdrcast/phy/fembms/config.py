"""FeMBMS carrier configuration: an MBMS-dedicated cell (cell-acquisition subframe every 40 ms)
with one MBSFN area, its MCCH, and PMCHs carrying MTCH sessions (3GPP TS 36.211, 36.213,
36.331). Derived quantities (resource blocks, sample rate, MCH subframes per period, TBS) are
properties; everything the standard or this transmitter does not allow is refused naming the
field and the allowed values."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from importlib import resources

from sdrcast.config import from_mapping, load_mapping, require_one_of, require_range
from sdrcast.errors import ConfigError
from sdrcast.mac.fembms.rrc import MCCH_SUBFRAMES, SIGNALLING_MCS

BANDWIDTHS = {1.4: 6, 3.0: 15, 5.0: 25, 10.0: 50, 15.0: 75, 20.0: 100}
NUMEROLOGIES = ("1.25", "7.5", "15e")
MISSING = {"2.5": "the MBSFN RS pattern of 2.5 kHz (Rel-16) is not in the project's tables",
           "0.37": "the MBSFN RS pattern of 0.37 kHz (Rel-16) is not in the project's tables"}
RADIO_FRAMES = ("rf4", "rf8", "rf16", "rf32", "rf64", "rf128", "rf256", "rf512", "rf1024")
PRESETS_DIR = resources.files("sdrcast.phy.fembms").joinpath("presets")


def frames(rf: str) -> int:
    return int(rf.removeprefix("rf"))


@dataclass(frozen=True)
class SessionConfig:
    """An MBMS session on an MTCH: ``service_id`` (6 hex digits of the TMGI), ``session_id``
    (0-255), ``lcid`` (1-28), ``input``: where its IP packets come from (``gen``: generated
    test traffic, ``udp://GROUP:PORT``, ``pcap:FILE``; the command line may override it)."""

    service_id: str = "000001"
    session_id: int = 0
    lcid: int = 1
    input: str = "gen"

    def __post_init__(self):
        try:
            ok = len(self.service_id) == 6 and int(self.service_id, 16) >= 0
        except ValueError:
            ok = False
        if not ok:
            raise ConfigError(f"service_id={self.service_id!r} must be 6 hex digits (3 bytes of the TMGI)")
        require_range("session_id", self.session_id, 0, 255)
        require_range("lcid", self.lcid, 1, 28)
        if not (self.input == "gen" or self.input.startswith(("udp://", "pcap:"))):
            raise ConfigError(f"input={self.input!r} is not allowed; use gen, udp://GROUP:PORT or pcap:FILE")


@dataclass(frozen=True)
class PmchConfig:
    """One PMCH: ``data_mcs`` from ``mcs_table`` ("64QAM": 0-28, "256QAM": 0-27),
    ``sf_alloc_end`` (the last MCH subframe of the period it owns; None: the period's last)
    and its sessions."""

    data_mcs: int = 9
    mcs_table: str = "64QAM"
    sf_alloc_end: int | None = None
    sessions: tuple[SessionConfig, ...] = (SessionConfig(),)

    def __post_init__(self):
        require_one_of("mcs_table", self.mcs_table, ("64QAM", "256QAM"))
        require_range("data_mcs", self.data_mcs, 0, 28 if self.mcs_table == "64QAM" else 27)
        lcids = [s.lcid for s in self.sessions]
        if not lcids or len(set(lcids)) != len(lcids):
            raise ConfigError(f"sessions of a PMCH need distinct lcid values, got {lcids}")


@dataclass(frozen=True)
class FembmsConfig:
    """``bandwidth_mhz`` 1.4/3/5/10/15/20; ``pci`` 0-503; ``area_id`` (N_ID^MBSFN) 0-255;
    ``numerology`` of the MBSFN subframes "1.25" | "7.5" | "15e" (15 kHz extended CP);
    ``cas_cp`` "extended" (what receivers search for) | "normal"; PLMN ``mcc``/``mnc``,
    ``tac``, ``cell_identity``, ``band``; the MCCH: ``mcch_repetition`` and
    ``mcch_modification`` (rfN), ``mcch_offset``, ``mcch_subframe`` (1, 2, 3, 6, 7, 8),
    ``signalling_mcs`` (2, 7, 13, 19); ``scheduling_period`` (rfN, MCH scheduling and
    commonSF-Alloc period); ``pmchs``; ``msi``; ``data_start``: the first MCH subframe of a
    period that carries MTCH data (the 5G-MAG modem decodes on 4 threads and needs the
    MCCH/MSI subframe done first); ``sample_rate`` (default: the standard rate of the
    bandwidth); ``cas_fill``: pseudo-random QPSK on the CAS resource blocks no SI uses;
    ``mcch_v1430``: the MCCH lists subframes 4 and 9 too (commonSF-Alloc-v1430, Rel-14)."""

    bandwidth_mhz: float = 5.0
    pci: int = 1
    area_id: int = 1
    numerology: str = "1.25"
    cas_cp: str = "extended"
    mcc: str = "901"
    mnc: str = "56"
    tac: int = 1
    cell_identity: int = 105217
    band: int = 20
    mcch_repetition: str = "rf32"
    mcch_offset: int = 0
    mcch_modification: str = "rf512"
    mcch_subframe: int = 1
    signalling_mcs: int = 2
    scheduling_period: str = "rf32"
    pmchs: tuple[PmchConfig, ...] = (PmchConfig(),)
    msi: bool = True
    data_start: int = 10
    sample_rate: float | None = None
    cas_fill: bool = True
    mcch_v1430: bool = True  # commonSF-Alloc-v1430: subframes 4 and 9 as well (Rel-14)

    def __post_init__(self):
        require_one_of("bandwidth_mhz", float(self.bandwidth_mhz), BANDWIDTHS)
        require_range("pci", self.pci, 0, 503)
        require_range("area_id", self.area_id, 0, 255)
        if self.numerology in MISSING:
            raise ConfigError(f"numerology={self.numerology!r}: {MISSING[self.numerology]}; "
                              f"choose one of {list(NUMEROLOGIES)}")
        require_one_of("numerology", self.numerology, NUMEROLOGIES)
        require_one_of("cas_cp", self.cas_cp, ("extended", "normal"))
        if not (self.mcc.isdigit() and len(self.mcc) == 3 and self.mnc.isdigit() and len(self.mnc) in (2, 3)):
            raise ConfigError(f"mcc={self.mcc!r}, mnc={self.mnc!r}: 3 and 2-3 decimal digits")
        require_range("tac", self.tac, 0, 65535)
        require_range("cell_identity", self.cell_identity, 0, 2 ** 28 - 1)
        require_range("band", self.band, 1, 256)
        require_one_of("mcch_repetition", self.mcch_repetition, ("rf32", "rf64", "rf128", "rf256"))
        require_one_of("mcch_modification", self.mcch_modification, ("rf512", "rf1024"))
        require_range("mcch_offset", self.mcch_offset, 0, 10)
        require_one_of("mcch_subframe", self.mcch_subframe, MCCH_SUBFRAMES)
        require_one_of("signalling_mcs", self.signalling_mcs, SIGNALLING_MCS)
        require_one_of("scheduling_period", self.scheduling_period, RADIO_FRAMES[1:])
        if frames(self.scheduling_period) % 4:
            raise ConfigError(f"scheduling_period={self.scheduling_period!r} must span whole 40 ms "
                              "cell-acquisition periods; choose rf8 or longer")
        if frames(self.mcch_repetition) % frames(self.scheduling_period) and \
                frames(self.scheduling_period) % frames(self.mcch_repetition):
            raise ConfigError(f"mcch_repetition={self.mcch_repetition!r} and scheduling_period="
                              f"{self.scheduling_period!r} must divide one another")
        if not self.pmchs:
            raise ConfigError("pmchs: at least one PMCH is needed")
        lcids = [s.lcid for p in self.pmchs for s in p.sessions]
        if len(set(lcids)) != len(lcids):
            raise ConfigError(f"session lcid values must be distinct across PMCHs, got {lcids}")
        ends = self.alloc_ends
        if any(b <= a for a, b in zip(ends, ends[1:], strict=False)) or ends[-1] > self.mch_subframes - 1:
            raise ConfigError(f"sf_alloc_end values {ends} must increase and stay below the "
                              f"{self.mch_subframes} MCH subframes of {self.scheduling_period}")
        require_range("data_start", self.data_start, 1, ends[0])
        if self.sample_rate is not None:
            require_range("sample_rate", self.sample_rate, self.standard_rate * 0.5, 61.44e6)
        from sdrcast.phy.fembms.pmch import tbs

        for p in self.pmchs:
            tbs(p.data_mcs, self.n_rb, p.mcs_table)  # the MCS row exists for this table

    @classmethod
    def load(cls, path) -> FembmsConfig:
        return from_mapping(cls, load_mapping(path))

    @classmethod
    def preset(cls, name: str) -> FembmsConfig:
        names = sorted(p.name.removesuffix(".toml") for p in PRESETS_DIR.iterdir()
                       if p.name.endswith(".toml"))
        require_one_of("preset", name, names)
        with resources.as_file(PRESETS_DIR.joinpath(f"{name}.toml")) as path:
            return cls.load(path)

    # derived ------------------------------------------------------------------------------
    @property
    def n_rb(self) -> int:
        return BANDWIDTHS[float(self.bandwidth_mhz)]

    @property
    def standard_rate(self) -> float:
        from sdrcast.phy.fembms.numerology import SAMPLE_RATES

        return SAMPLE_RATES[self.n_rb]

    @property
    def rate(self) -> float:
        """Sample rate of the output."""
        return self.sample_rate or self.standard_rate

    @property
    def period_frames(self) -> int:
        return frames(self.scheduling_period)

    @property
    def mch_subframes(self) -> int:
        """MCH subframes per scheduling period: every subframe but the CAS (one per 4 frames)."""
        return 10 * self.period_frames - self.period_frames // 4

    @cached_property
    def alloc_ends(self) -> list[int]:
        out = [p.sf_alloc_end for p in self.pmchs]
        out[-1] = self.mch_subframes - 1 if out[-1] is None else out[-1]
        if any(e is None for e in out):
            raise ConfigError("sf_alloc_end: every PMCH but the last needs one")
        return out

    @property
    def sessions(self) -> list[SessionConfig]:
        return [s for p in self.pmchs for s in p.sessions]
