"""ATSC 3.0 transmission configuration with A/322 names: frame (bootstrap, preamble, L1 FEC
modes), subframes (FFT, guard interval, pilots, symbols) and PLPs (FEC, modulation, time
interleaving, cells per frame). Frozen dataclasses validated on construction; TOML/JSON via
``Atsc3Config.load`` (schema in docs/atsc3.md)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sdrcast.config import from_mapping, load_mapping, require_one_of, require_range
from sdrcast.errors import ConfigError
from sdrcast.phy.atsc3.frame_geometry import layout
from sdrcast.phy.atsc3.tables import BITS_PER_CELL, CONSTELLATIONS, LDM_LEVELS, RATES, ldpc_spec, ofdm

FEC_TYPES = ("BCH+LDPC", "CRC+LDPC", "LDPC")
TI_MODES = ("off", "CTI", "HTI")
PLP_INPUTS = ("ts", "ip")
PAPR_MODES = ("off", "TR")
CTI_DEPTHS = (512, 724, 887, 1024, 1254, 1448)  # 1254 and 1448: extended, QPSK only
GI_MAX = {8192: 7, 16384: 11, 32768: 12}
PRESET_DIR = Path(__file__).with_name("presets")
PRESETS = tuple(sorted(p.stem for p in PRESET_DIR.glob("*.toml")))


@dataclass(frozen=True)
class PlpConfig:
    """One PLP. ``fec_blocks``: FEC blocks per frame (its L1D_plp_size is that many FEC blocks'
    cells). ``layer``: 0 core, 1 LDM enhanced layer, added ``ldm_injection_level_db`` below the
    core PLP before it (same cells per frame; the core's time interleaving applies to the sum).
    ``ti_mode`` "HTI": hybrid time
    interleaving within the frame over ``hti_ti_blocks`` TI blocks; "CTI": convolutional time
    interleaving over ``cti_depth`` rows, across frames. ``input``: what the PLP carries, "ts"
    (MPEG-2 TS, A/330 TS mode with null-packet deletion) or "ip" (IPv4 datagrams)."""

    plp_id: int = 0
    input: str = "ts"
    lls: bool = False  # carries Low Level Signalling (A/331 SLT etc.): L1D_plp_lls_flag
    fec_type: str = "BCH+LDPC"
    ldpc_length: int = 64800
    code_rate: str = "9/15"
    modulation: str = "256QAM"
    fec_blocks: int = 1
    ti_mode: str = "off"
    layer: int = 0
    hti_ti_blocks: int = 1
    hti_fec_blocks_max: int | None = None  # default: fec_blocks
    hti_cell_interleaver: bool = True
    cti_depth: int = 1024
    ldm_injection_level_db: float = 5.0  # enhanced layer (layer 1) below the core

    def __post_init__(self):
        require_range("plp_id", self.plp_id, 0, 63)
        require_one_of("input", self.input, PLP_INPUTS)
        require_one_of("fec_type", self.fec_type, FEC_TYPES)
        require_one_of("ldpc_length", self.ldpc_length, (16200, 64800))
        require_one_of("code_rate", self.code_rate, RATES)
        require_one_of("modulation", self.modulation, CONSTELLATIONS)
        if self.ldpc_length == 16200 and self.modulation in ("1024QAM", "4096QAM"):
            raise ConfigError(f"modulation={self.modulation!r} is not allowed with ldpc_length=16200; "
                              "allowed QPSK, 16QAM, 64QAM, 256QAM")
        require_range("fec_blocks", self.fec_blocks, 1)
        require_one_of("ti_mode", self.ti_mode, TI_MODES)
        require_one_of("layer", self.layer, (0, 1))
        require_one_of("ldm_injection_level_db", self.ldm_injection_level_db, LDM_LEVELS)
        require_range("hti_ti_blocks", self.hti_ti_blocks, 1, 16)
        if self.hti_fec_blocks_max is not None:
            require_range("hti_fec_blocks_max", self.hti_fec_blocks_max, self.fec_blocks, 4096)
        require_one_of("cti_depth", self.cti_depth, CTI_DEPTHS)
        if self.cti_depth > 1024 and self.modulation != "QPSK":
            raise ConfigError(f"cti_depth={self.cti_depth} (extended interleaving) needs "
                              f"modulation='QPSK', not {self.modulation!r}")
        if self.ti_mode == "HTI" and self.hti_ti_blocks > self.fec_blocks:
            raise ConfigError(f"hti_ti_blocks={self.hti_ti_blocks} exceeds fec_blocks={self.fec_blocks}")

    @property
    def k_payload(self) -> int:
        """Baseband packet bits (K_bch, K_ldpc - 32 with CRC, K_ldpc without outer code)."""
        k_ldpc = int(ldpc_spec(self.ldpc_length, self.code_rate)["K_ldpc"])
        if self.fec_type == "BCH+LDPC":
            return k_ldpc - (192 if self.ldpc_length == 64800 else 168)
        return k_ldpc - 32 if self.fec_type == "CRC+LDPC" else k_ldpc

    @property
    def cells_per_fec_block(self) -> int:
        return self.ldpc_length // BITS_PER_CELL[self.modulation]

    @property
    def cells(self) -> int:
        return self.fec_blocks * self.cells_per_fec_block


@dataclass(frozen=True)
class SubframeConfig:
    """``num_ofdm_symbols``: payload symbols including the subframe boundary symbols."""

    fft_size: int = 8192
    guard_interval: int = 5
    scattered_pilot_pattern: str = "SP3_4"
    scattered_pilot_boost: int = 4
    reduced_carriers: int = 0
    num_ofdm_symbols: int = 35
    sbs_first: bool = False
    frequency_interleaver: bool = True
    plps: tuple[PlpConfig, ...] = (PlpConfig(),)

    def __post_init__(self):
        require_one_of("fft_size", self.fft_size, GI_MAX)
        require_range("guard_interval", self.guard_interval, 1, GI_MAX[self.fft_size])
        require_one_of("scattered_pilot_pattern", self.scattered_pilot_pattern,
                       ofdm()["scattered_pilot_patterns"])
        require_range("scattered_pilot_boost", self.scattered_pilot_boost, 0, 4)
        require_range("reduced_carriers", self.reduced_carriers, 0, 4)
        require_range("num_ofdm_symbols", self.num_ofdm_symbols, 2 if self.sbs_first else 1)
        if not self.plps:
            raise ConfigError("a subframe needs at least one PLP (plps)")
        dx = ofdm()["scattered_pilot_patterns"][self.scattered_pilot_pattern]["Dx"]
        gi = ofdm()["guard_interval_samples"][f"GI{self.guard_interval}"]
        if self.fft_size // dx < gi:  # the pilot spacing must resolve the guard interval
            raise ConfigError(f"scattered_pilot_pattern={self.scattered_pilot_pattern!r} (Dx={dx}) is "
                              f"too sparse for guard_interval=GI{self.guard_interval} ({gi} samples) at "
                              f"fft_size={self.fft_size}: need fft_size/Dx >= GI samples")


@dataclass(frozen=True)
class Atsc3Config:
    """A frame: bootstrap fields, preamble, L1 protection and its subframes (the first has the
    preamble; each later one starts without a preamble). ``frame_length_ms``: None for
    symbol-aligned frames (their length follows from the symbols), or a time-aligned frame
    length, a multiple of 5 ms in 50..5000: the samples beyond the symbols go into the guard
    intervals of the payload symbols (``framing.frame_timing``). ``papr_reduction`` "TR": tone
    reservation (``papr``), peaks clipped towards ``tr_clip_db`` over the symbol RMS with
    reserved carriers up to ``tr_max_tone`` times the data cells' RMS amplitude, in at most
    ``tr_iterations`` steps per symbol."""

    bsr_coefficient: int = 2
    min_time_to_next: int = 0
    num_preamble_symbols: int = 1
    l1_basic_fec_mode: int = 1
    l1_detail_fec_mode: int = 1
    bsid: int = 0x8086
    preamble_structure: int | None = None  # default: from A/322 Annex H
    frame_length_ms: int | None = None
    return_channel: bool = False  # L1B_return_channel_flag: a dedicated return channel (A/323)
    bootstrap_generation: str = "resampled"  # or "native" (bootstrap.native)
    papr_reduction: str = "off"
    tr_clip_db: float = 7.0
    tr_max_tone: float = 5.0
    tr_iterations: int = 20
    subframes: tuple[SubframeConfig, ...] = field(default=(SubframeConfig(),))

    def __post_init__(self):
        require_range("bsr_coefficient", self.bsr_coefficient, 0, 127)
        require_range("min_time_to_next", self.min_time_to_next, 0, 31)
        require_range("num_preamble_symbols", self.num_preamble_symbols, 1, 8)
        require_range("l1_basic_fec_mode", self.l1_basic_fec_mode, 1, 7)
        require_range("l1_detail_fec_mode", self.l1_detail_fec_mode, 1, 7)
        require_range("bsid", self.bsid, 0, 0xFFFF)
        require_one_of("papr_reduction", self.papr_reduction, PAPR_MODES)
        require_one_of("bootstrap_generation", self.bootstrap_generation, ("resampled", "native"))
        require_range("tr_clip_db", self.tr_clip_db, 3.0, 15.0)
        require_range("tr_max_tone", self.tr_max_tone, 0.0, 10.0)
        require_range("tr_iterations", self.tr_iterations, 1, 1000)
        if self.frame_length_ms is not None:
            require_range("frame_length_ms", self.frame_length_ms, 50, 5000)
            if self.frame_length_ms % 5:
                raise ConfigError(f"frame_length_ms={self.frame_length_ms}: time-aligned frames are "
                                  "signalled in 5 ms steps; use a multiple of 5")
        if not 1 <= len(self.subframes) <= 256:
            raise ConfigError(f"{len(self.subframes)} subframes: allowed 1..256")
        for s in self.subframes:
            for prev, p in zip(s.plps, s.plps[1:], strict=False):
                if p.layer == 1 and (prev.layer != 0 or prev.cells != p.cells):
                    raise ConfigError(f"LDM enhanced PLP {p.plp_id} must follow a core PLP with the "
                                      f"same cells per frame ({p.cells})")
                if p.layer == 1 and p.ti_mode != prev.ti_mode:
                    raise ConfigError(f"LDM enhanced PLP {p.plp_id}: ti_mode={p.ti_mode!r} must be its "
                                      f"core PLP's ({prev.ti_mode!r}): the layers are interleaved "
                                      "together")
                if p.layer == 1 and p.ti_mode == "CTI":
                    raise ConfigError(f"LDM PLPs {prev.plp_id}/{p.plp_id}: convolutional time "
                                      "interleaving of combined layers is not implemented; use "
                                      "ti_mode 'off' or 'HTI'")
            if s.plps[0].layer == 1:
                raise ConfigError("the first PLP of a subframe must be a core-layer PLP (layer 0)")
        ids = [p.plp_id for s in self.subframes for p in s.plps]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"plp_id values must be unique in a frame, got {ids}")
        from sdrcast.phy.atsc3.framing import capacity, frame_timing

        frame_timing(self)  # a time-aligned frame must hold its symbols
        for i, s in enumerate(self.subframes):
            cap = capacity(self, i)
            used = sum(p.cells for p in s.plps if p.layer == 0)
            if used > cap:
                raise ConfigError(f"subframe {i}: PLPs need {used} cells per frame but it carries "
                                  f"{cap}{' after L1' if i == 0 else ''}; lower fec_blocks or raise "
                                  "num_ofdm_symbols")

    @classmethod
    def load(cls, path) -> Atsc3Config:
        return from_mapping(cls, load_mapping(path), required={"SubframeConfig": ("plps",)})

    @classmethod
    def preset(cls, name: str) -> Atsc3Config:
        """A packaged configuration: station setups and each reference vector set (``PRESETS``)."""
        require_one_of("preset", name, PRESETS)
        return cls.load(PRESET_DIR / f"{name}.toml")

    @property
    def sample_rate(self) -> float:
        return (self.bsr_coefficient + 16) * 0.384e6

    def layout(self, index: int = 0):
        s = self.subframes[index]
        return layout(s.fft_size, s.guard_interval, s.scattered_pilot_pattern, s.reduced_carriers,
                      self.num_preamble_symbols if index == 0 else 0, s.num_ofdm_symbols, s.sbs_first,
                      index == 0, self.papr_reduction == "TR", s.scattered_pilot_boost)
