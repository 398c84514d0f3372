"""From a configuration to the L1 signalling of a frame (A/322 9.2, 9.3) and its capacity:
the L1-Basic and L1-Detail field values sdrcast sends, with gr-atsc3's conventions where the
standard leaves a choice (L1-Detail of at least 25 bytes, L1D_version 1, reserved bits ones)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sdrcast.errors import ConfigError
from sdrcast.phy.atsc3.frame_builder import data_capacity, sbs_null_cells
from sdrcast.phy.atsc3.l1 import MIN_DETAIL_BYTES, l1_basic, l1_detail
from sdrcast.phy.atsc3.l1_fec import cell_count
from sdrcast.phy.atsc3.tables import BITS_PER_CELL, CONSTELLATIONS, LDM_LEVELS, RATES, ofdm

if TYPE_CHECKING:
    from sdrcast.phy.atsc3.config import Atsc3Config

FFT_CODE = {8192: 0, 16384: 1, 32768: 2}
TI_MODE_CODE = {"off": 0, "CTI": 1, "HTI": 2}
FEC_TYPE_CODE = {("BCH+LDPC", 16200): 0, ("BCH+LDPC", 64800): 1, ("CRC+LDPC", 16200): 2,
                 ("CRC+LDPC", 64800): 3, ("LDPC", 16200): 4, ("LDPC", 64800): 5}


def _pattern_code(name: str) -> int:
    return list(ofdm()["scattered_pilot_patterns"]).index(name)


def _cti_code(depth: int) -> tuple[int, int]:
    """(L1D_plp_CTI_depth, L1D_plp_TI_extended_interleaving) for a CTI depth."""
    return {512: (0, 0), 724: (1, 0), 887: (2, 0), 1024: (3, 0), 1254: (2, 1), 1448: (3, 1)}[depth]


def _nulls(sub) -> int:
    return sbs_null_cells(sub.fft_size, sub.scattered_pilot_pattern, sub.reduced_carriers,
                          sub.scattered_pilot_boost)


def detail_fields(cfg: Atsc3Config, cti: dict[int, tuple[int, int]] | None = None) -> dict:
    """L1-Detail field values (lists by subframe, then PLP); ``cti``: plp_id -> (start row,
    FEC block start) of this frame for CTI PLPs."""
    cti = cti or {}
    subs = cfg.subframes

    def per_plp(fn):
        return [[fn(p) for p in sub.plps] for sub in subs]

    def starts(sub):
        out, a = [], 0
        for p in sub.plps:  # an enhanced-layer PLP shares its core PLP's cells
            if p.layer == 0:
                a += p.cells
            out.append(a - p.cells)
        return out

    return {
        "L1D_version": 1, "L1D_num_rf": 0,
        # subframes after the first (L1-Basic describes the first)
        "L1D_mimo": [0] * len(subs), "L1D_miso": [0] * len(subs),
        "L1D_fft_size": [FFT_CODE[s.fft_size] for s in subs],
        "L1D_reduced_carriers": [s.reduced_carriers for s in subs],
        "L1D_guard_interval": [s.guard_interval for s in subs],
        "L1D_num_ofdm_symbols": [s.num_ofdm_symbols - 1 for s in subs],
        "L1D_scattered_pilot_pattern": [_pattern_code(s.scattered_pilot_pattern) for s in subs],
        "L1D_scattered_pilot_boost": [s.scattered_pilot_boost for s in subs],
        "L1D_sbs_first": [int(s.sbs_first) for s in subs], "L1D_sbs_last": [1] * len(subs),
        "L1D_subframe_multiplex": [0] * len(subs),
        "L1D_frequency_interleaver": [int(s.frequency_interleaver) for s in subs],
        "L1D_sbs_null_cells": [_nulls(s) for s in subs],
        "L1D_num_plp": [len(s.plps) - 1 for s in subs],
        "L1D_plp_id": per_plp(lambda p: p.plp_id), "L1D_plp_lls_flag": per_plp(lambda p: int(p.lls)),
        "L1D_plp_layer": per_plp(lambda p: p.layer), "L1D_plp_start": [starts(s) for s in subs],
        "L1D_plp_size": per_plp(lambda p: p.cells), "L1D_plp_scrambler_type": per_plp(lambda p: 0),
        "L1D_plp_fec_type": per_plp(lambda p: FEC_TYPE_CODE[(p.fec_type, p.ldpc_length)]),
        "L1D_plp_mod": per_plp(lambda p: CONSTELLATIONS.index(p.modulation)),
        "L1D_plp_cod": per_plp(lambda p: RATES.index(p.code_rate)),
        "L1D_plp_TI_mode": per_plp(lambda p: TI_MODE_CODE[p.ti_mode]),
        "L1D_plp_fec_block_start": per_plp(lambda p: 0), "L1D_plp_type": per_plp(lambda p: 0),
        "L1D_plp_TI_extended_interleaving": per_plp(
            lambda p: _cti_code(p.cti_depth)[1] if p.ti_mode == "CTI" else 0),
        "L1D_plp_CTI_depth": per_plp(lambda p: _cti_code(p.cti_depth)[0]),
        "L1D_plp_CTI_start_row": per_plp(lambda p: cti.get(p.plp_id, (0, 0))[0]),
        "L1D_plp_CTI_fec_block_start": per_plp(lambda p: cti.get(p.plp_id, (0, 0))[1]),
        "L1D_plp_HTI_inter_subframe": per_plp(lambda p: 0),
        "L1D_plp_HTI_num_ti_blocks": per_plp(lambda p: p.hti_ti_blocks - 1),
        "L1D_plp_HTI_num_fec_blocks_max": per_plp(lambda p: (p.hti_fec_blocks_max or p.fec_blocks) - 1),
        "L1D_plp_HTI_num_fec_blocks": per_plp(lambda p: p.fec_blocks - 1),
        "L1D_plp_HTI_cell_interleaver": per_plp(lambda p: int(p.hti_cell_interleaver)),
        "L1D_plp_ldm_injection_level": per_plp(lambda p: LDM_LEVELS.index(p.ldm_injection_level_db)),
        "L1D_bsid": cfg.bsid,
    }


def frame_timing(cfg: Atsc3Config) -> tuple[int, int]:
    """Time-aligned frames: (excess samples added to the guard interval of every payload
    symbol, samples of cyclic postfix after the last one), splitting the frame's samples beyond
    bootstrap, preamble and payload symbols as the ATSC 3.0 framing design describes (IEEE
    Trans. Broadcast. 62(1), 2016; Samsung US 11153022: quotient to each payload guard
    interval, remainder as a postfix). (0, 0) for symbol-aligned frames."""
    if cfg.frame_length_ms is None:
        return 0, 0
    rate = cfg.sample_rate
    used = 768 * (cfg.bsr_coefficient + 16)  # bootstrap: 4 x 3072 samples at 6.144 Msps
    payload = 0
    for i, s in enumerate(cfg.subframes):
        lay = cfg.layout(i)
        used += len(lay.kinds) * (s.fft_size + ofdm()["guard_interval_samples"][f"GI{s.guard_interval}"])
        payload += sum(k not in ("FP", "P") for k in lay.kinds)
    total = round(cfg.frame_length_ms * 1e-3 * rate)
    if total < used:
        raise ConfigError(f"frame_length_ms={cfg.frame_length_ms}: the symbols need "
                          f"{used / rate * 1e3:.2f} ms; raise it or use fewer num_ofdm_symbols")
    per, rest = divmod(total - used, payload)
    if per >= 1 << 13:
        raise ConfigError(f"frame_length_ms={cfg.frame_length_ms}: {per} excess samples per symbol "
                          f"exceed L1B_excess_samples_per_symbol's 8191; add symbols or shorten it")
    return per, rest


def samples_per_ms(cfg: Atsc3Config) -> int:
    """Baseband samples in a millisecond: (N+16) x 384."""
    return 384 * (cfg.bsr_coefficient + 16)


def time_offset(cfg: Atsc3Config, samples_before: int) -> int:
    """L1B_time_offset of a symbol-aligned frame starting ``samples_before`` samples after a
    millisecond boundary (the first frame's start): the samples at the baseband rate between
    the preceding millisecond boundary and the frame's start. 0 for every frame only while
    frames last whole milliseconds."""
    return samples_before % samples_per_ms(cfg)


def basic_fields(cfg: Atsc3Config, detail_bytes: int, detail_cells: int,
                 offset: int = 0) -> dict:
    """L1-Basic fields; ``offset``: this frame's L1B_time_offset (symbol-aligned frames)."""
    sub = cfg.subframes[0]
    timing = ({"L1B_frame_length_mode": 1, "L1B_time_offset": offset, "L1B_additional_samples": 0}
              if cfg.frame_length_ms is None else
              {"L1B_frame_length_mode": 0, "L1B_frame_length": cfg.frame_length_ms // 5,
               "L1B_excess_samples_per_symbol": frame_timing(cfg)[0]})
    return {
        "L1B_version": 0, "L1B_mimo_scattered_pilot_encoding": 0,
        "L1B_lls_flag": int(any(p.lls for s in cfg.subframes for p in s.plps)),
        "L1B_time_info_flag": 0, "L1B_return_channel_flag": int(cfg.return_channel),
        "L1B_papr_reduction": int(cfg.papr_reduction == "TR"),
        **timing,
        "L1B_num_subframes": len(cfg.subframes) - 1,
        "L1B_preamble_num_symbols": cfg.num_preamble_symbols - 1,
        "L1B_preamble_reduced_carriers": sub.reduced_carriers, "L1B_L1_Detail_content_tag": 0,
        "L1B_L1_Detail_size_bytes": detail_bytes,
        "L1B_L1_Detail_fec_type": cfg.l1_detail_fec_mode - 1,
        "L1B_L1_Detail_additional_parity_mode": 0, "L1B_L1_Detail_total_cells": detail_cells,
        "L1B_first_sub_mimo": 0, "L1B_first_sub_miso": 0,
        "L1B_first_sub_fft_size": FFT_CODE[sub.fft_size],
        "L1B_first_sub_reduced_carriers": sub.reduced_carriers,
        "L1B_first_sub_guard_interval": sub.guard_interval,
        "L1B_first_sub_num_ofdm_symbols": sub.num_ofdm_symbols - 1,
        "L1B_first_sub_scattered_pilot_pattern": _pattern_code(sub.scattered_pilot_pattern),
        "L1B_first_sub_scattered_pilot_boost": sub.scattered_pilot_boost,
        "L1B_first_sub_sbs_first": int(sub.sbs_first), "L1B_first_sub_sbs_last": 1,
    }


def l1_bits(cfg: Atsc3Config, cti: dict[int, tuple[int, int]] | None = None, offset: int = 0):
    """(L1-Basic bits, L1-Detail bits) of a frame (``offset``: its L1B_time_offset)."""
    detail_f = detail_fields(cfg, cti)
    probe = l1_detail(detail_f, basic_fields(cfg, MIN_DETAIL_BYTES, 0))
    size = probe.size // 8
    cells = cell_count("detail", cfg.l1_detail_fec_mode, probe.size)
    basic_f = basic_fields(cfg, size, cells, offset)
    return l1_basic(basic_f), l1_detail(detail_f, basic_f, size)


def capacity(cfg: Atsc3Config, index: int = 0) -> int:
    """Data cells of subframe ``index`` after L1 (in the first) and SBS null cells."""
    l1 = 0
    if index == 0:
        basic, detail = l1_bits(cfg)
        l1 = cell_count("basic", cfg.l1_basic_fec_mode, basic.size) + \
            cell_count("detail", cfg.l1_detail_fec_mode, detail.size)
    return data_capacity(cfg.layout(index), l1, _nulls(cfg.subframes[index]))


def config_from_l1(boot, basic: dict, detail: dict, l1_basic_fec_mode: int) -> Atsc3Config:
    """What a receiver knows after the bootstrap, L1-Basic (decoded in ``l1_basic_fec_mode``)
    and L1-Detail: the configuration (inverse of ``basic_fields``/``detail_fields``). Not
    signalled, so left at their defaults: each PLP's ``input`` (the ALP packet types tell),
    the TR algorithm settings, the bootstrap generation."""
    from sdrcast.phy.atsc3.bootstrap import preamble_structure
    from sdrcast.phy.atsc3.config import CTI_DEPTHS, Atsc3Config, PlpConfig, SubframeConfig

    patterns = list(ofdm()["scattered_pilot_patterns"])
    fft_of = {v: k for k, v in FFT_CODE.items()}
    fec_of = {v: k for k, v in FEC_TYPE_CODE.items()}
    ti_of = {v: k for k, v in TI_MODE_CODE.items()}
    cti_of = {_cti_code(d): d for d in CTI_DEPTHS}
    subs = []
    for i in range(basic["L1B_num_subframes"] + 1):
        def sub(name, _i=i):
            return basic[f"L1B_first_sub_{name}"] if _i == 0 else detail[f"L1D_{name}"][_i]

        plps = []
        for j in range(detail["L1D_num_plp"][i] + 1):
            def f(name, _i=i, _j=j):
                return detail[f"L1D_plp_{name}"][_i][_j]

            fec_type, n = fec_of[f("fec_type")]
            mod, rate = CONSTELLATIONS[f("mod")], RATES[f("cod")]
            layer, ti = f("layer"), ti_of[f("TI_mode")]
            cells_per_block = n // BITS_PER_CELL[mod]
            kw = {}
            if layer == 0 and ti == "CTI":
                kw["cti_depth"] = cti_of[(f("CTI_depth"), f("TI_extended_interleaving")
                                          if mod == "QPSK" else 0)]
            if layer == 0 and ti == "HTI":
                blocks_max = f("HTI_num_fec_blocks_max") + 1
                kw.update(hti_ti_blocks=f("HTI_num_ti_blocks") + 1, hti_cell_interleaver=bool(
                    f("HTI_cell_interleaver")))
                if blocks_max != f("size") // cells_per_block:
                    kw["hti_fec_blocks_max"] = blocks_max
            if layer:
                kw["ldm_injection_level_db"] = LDM_LEVELS[f("ldm_injection_level")]
                ti = plps[-1].ti_mode  # signalled with the core
            plps.append(PlpConfig(plp_id=f("id"), lls=bool(f("lls_flag")), fec_type=fec_type,
                                  ldpc_length=n, code_rate=rate, modulation=mod,
                                  fec_blocks=f("size") // cells_per_block, ti_mode=ti, layer=layer,
                                  **kw))
        subs.append(SubframeConfig(
            fft_size=fft_of[sub("fft_size")], guard_interval=sub("guard_interval"),
            scattered_pilot_pattern=patterns[sub("scattered_pilot_pattern")],
            scattered_pilot_boost=sub("scattered_pilot_boost"),
            reduced_carriers=sub("reduced_carriers"), num_ofdm_symbols=sub("num_ofdm_symbols") + 1,
            sbs_first=bool(sub("sbs_first")),
            frequency_interleaver=bool(detail["L1D_frequency_interleaver"][i]), plps=tuple(plps)))
    s0 = subs[0]
    from sdrcast.phy.atsc3.frame_geometry import preamble_row

    dx = ofdm()["preamble_pilots"]["rows"][preamble_row(s0.fft_size, s0.guard_interval,
                                                         s0.scattered_pilot_pattern)]["preamble_Dx"]
    try:
        standard = preamble_structure(s0.fft_size, s0.guard_interval, dx, l1_basic_fec_mode)
    except ConfigError:  # modes 6 and 7 have no Annex H code
        standard = None
    timed = basic["L1B_frame_length_mode"] == 0
    return Atsc3Config(
        bsr_coefficient=boot.bsr_coefficient, min_time_to_next=boot.min_time_to_next,
        num_preamble_symbols=basic["L1B_preamble_num_symbols"] + 1,
        l1_basic_fec_mode=l1_basic_fec_mode,
        l1_detail_fec_mode=basic["L1B_L1_Detail_fec_type"] + 1, bsid=detail["L1D_bsid"],
        preamble_structure=None if boot.preamble_structure == standard else boot.preamble_structure,
        frame_length_ms=basic["L1B_frame_length"] * 5 if timed else None,
        return_channel=bool(basic["L1B_return_channel_flag"]),
        papr_reduction="TR" if basic["L1B_papr_reduction"] == 1 else "off", subframes=tuple(subs))
