"""From a configuration to the L1 signalling of a frame (A/322 9.2, 9.3) and its capacity:
the L1-Basic and L1-Detail field values sdrcast sends, with gr-atsc3's conventions where the
standard leaves a choice (L1-Detail of at least 25 bytes, L1D_version 1, reserved bits ones)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sdrcast.mac.atsc3.l1 import MIN_DETAIL_BYTES, l1_basic, l1_detail
from sdrcast.phy.atsc3.frame_builder import data_capacity, sbs_null_cells
from sdrcast.phy.atsc3.l1_fec import fec_params
from sdrcast.phy.atsc3.tables import CONSTELLATIONS, LDM_LEVELS, RATES, ofdm

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


def detail_fields(cfg: Atsc3Config, cti: dict[int, tuple[int, int]] | None = None) -> dict:
    """L1-Detail field values (lists by subframe, then PLP); ``cti``: plp_id -> (start row,
    FEC block start) of this frame for CTI PLPs."""
    cti = cti or {}
    sub = cfg.subframes[0]
    nulls = sbs_null_cells(sub.fft_size, sub.scattered_pilot_pattern, sub.reduced_carriers,
                           sub.scattered_pilot_boost)
    starts, a = [], 0
    for p in sub.plps:  # an enhanced-layer PLP shares its core PLP's cells
        if p.layer == 0:
            a += p.cells
        starts.append(a - p.cells)
    plps = sub.plps
    return {
        "L1D_version": 1, "L1D_num_rf": 0,
        "L1D_frequency_interleaver": [int(sub.frequency_interleaver)],
        "L1D_sbs_null_cells": [nulls], "L1D_num_plp": [len(plps) - 1],
        "L1D_plp_id": [[p.plp_id for p in plps]], "L1D_plp_lls_flag": [[0] * len(plps)],
        "L1D_plp_layer": [[p.layer for p in plps]], "L1D_plp_start": [starts],
        "L1D_plp_size": [[p.cells for p in plps]], "L1D_plp_scrambler_type": [[0] * len(plps)],
        "L1D_plp_fec_type": [[FEC_TYPE_CODE[(p.fec_type, p.ldpc_length)] for p in plps]],
        "L1D_plp_mod": [[CONSTELLATIONS.index(p.modulation) for p in plps]],
        "L1D_plp_cod": [[RATES.index(p.code_rate) for p in plps]],
        "L1D_plp_TI_mode": [[TI_MODE_CODE[p.ti_mode] for p in plps]],
        "L1D_plp_fec_block_start": [[0] * len(plps)],
        "L1D_plp_type": [[0] * len(plps)],
        "L1D_plp_TI_extended_interleaving": [[_cti_code(p.cti_depth)[1] if p.ti_mode == "CTI"
                                              else 0 for p in plps]],
        "L1D_plp_CTI_depth": [[_cti_code(p.cti_depth)[0] for p in plps]],
        "L1D_plp_CTI_start_row": [[cti.get(p.plp_id, (0, 0))[0] for p in plps]],
        "L1D_plp_CTI_fec_block_start": [[cti.get(p.plp_id, (0, 0))[1] for p in plps]],
        "L1D_plp_HTI_inter_subframe": [[0] * len(plps)],
        "L1D_plp_HTI_num_ti_blocks": [[p.hti_ti_blocks - 1 for p in plps]],
        "L1D_plp_HTI_num_fec_blocks_max": [[(p.hti_fec_blocks_max or p.fec_blocks) - 1 for p in plps]],
        "L1D_plp_HTI_num_fec_blocks": [[p.fec_blocks - 1 for p in plps]],
        "L1D_plp_HTI_cell_interleaver": [[int(p.hti_cell_interleaver) for p in plps]],
        "L1D_plp_ldm_injection_level": [[LDM_LEVELS.index(p.ldm_injection_level_db) for p in plps]],
        "L1D_bsid": cfg.bsid,
    }


def basic_fields(cfg: Atsc3Config, detail_bytes: int, detail_cells: int) -> dict:
    sub = cfg.subframes[0]
    return {
        "L1B_version": 0, "L1B_mimo_scattered_pilot_encoding": 0, "L1B_lls_flag": 0,
        "L1B_time_info_flag": 0, "L1B_return_channel_flag": 0, "L1B_papr_reduction": 0,
        "L1B_frame_length_mode": 1, "L1B_time_offset": 0, "L1B_additional_samples": 0,
        "L1B_num_subframes": len(cfg.subframes) - 1,
        "L1B_preamble_num_symbols": cfg.num_preamble_symbols - 1,
        "L1B_preamble_reduced_carriers": 0, "L1B_L1_Detail_content_tag": 0,
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


def l1_bits(cfg: Atsc3Config, cti: dict[int, tuple[int, int]] | None = None):
    """(L1-Basic bits, L1-Detail bits) of a frame."""
    detail_f = detail_fields(cfg, cti)
    probe = l1_detail(detail_f, basic_fields(cfg, MIN_DETAIL_BYTES, 0))
    size = probe.size // 8
    cells = fec_params("detail", cfg.l1_detail_fec_mode, probe.size)["cells"]
    basic_f = basic_fields(cfg, size, cells)
    return l1_basic(basic_f), l1_detail(detail_f, basic_f, size)


def capacity(cfg: Atsc3Config) -> int:
    """Data cells of the (first) subframe after L1 and SBS null cells."""
    basic, detail = l1_bits(cfg)
    l1 = fec_params("basic", cfg.l1_basic_fec_mode, basic.size)["cells"] + \
        fec_params("detail", cfg.l1_detail_fec_mode, detail.size)["cells"]
    sub = cfg.subframes[0]
    nulls = sbs_null_cells(sub.fft_size, sub.scattered_pilot_pattern, sub.reduced_carriers,
                           sub.scattered_pilot_boost)
    return data_capacity(cfg.layout(0), l1, nulls)
