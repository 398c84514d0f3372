"""Random valid configurations (hypothesis): one or two subframes of any FFT, guard interval,
pilot pattern, boost and C_red_coeff; up to three PLPs of any FEC, modulation and time
interleaving, input and LLS flag; symbol- or time-aligned frames; TR on or off; return channel.
Every one must build whole frames of the stated length whose L1-Basic and L1-Detail read back
to the configuration."""
import dataclasses

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdrcast.errors import ConfigError
from sdrcast.mac.ts import sample_stream
from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter, PlpConfig, SubframeConfig
from sdrcast.phy.atsc3.config import GI_MAX
from sdrcast.phy.atsc3.frame_builder import detail_cells
from sdrcast.phy.atsc3.framing import capacity
from sdrcast.phy.atsc3.l1 import parse_l1_basic, parse_l1_detail
from sdrcast.phy.atsc3.l1_fec import decode as l1_decode
from sdrcast.phy.atsc3.l1_fec import fec_params
from sdrcast.phy.atsc3.tables import CONSTELLATIONS, RATES, ofdm


@st.composite
def subframes(draw, first: bool):
    fft = draw(st.sampled_from([8192, 16384, 32768]))
    gi = draw(st.integers(1, GI_MAX[fft]))
    g = ofdm()["guard_interval_samples"][f"GI{gi}"]
    key = {8192: "8K", 16384: "16K", 32768: "32K"}[fft]
    names = list(ofdm()["scattered_pilot_patterns"])
    ok = [p for i, p in enumerate(names)
          if ofdm()["cells_per_symbol"][f"data_cells_{key}"][i][0]
          and fft // ofdm()["scattered_pilot_patterns"][p]["Dx"] >= g]
    return SubframeConfig(fft_size=fft, guard_interval=gi, scattered_pilot_pattern=draw(st.sampled_from(ok)),
                          scattered_pilot_boost=draw(st.integers(0, 4)),
                          reduced_carriers=draw(st.integers(0, 4)),
                          num_ofdm_symbols=draw(st.integers(3, 6)),
                          sbs_first=not first or draw(st.booleans()))


@st.composite
def plps(draw, plp_id: int):
    n = draw(st.sampled_from([16200, 64800]))
    mods = CONSTELLATIONS if n == 64800 else CONSTELLATIONS[:4]
    return PlpConfig(plp_id=plp_id, input=draw(st.sampled_from(["ts", "ip"])), lls=draw(st.booleans()),
                     fec_type=draw(st.sampled_from(["BCH+LDPC", "CRC+LDPC", "LDPC"])),
                     ldpc_length=n, code_rate=draw(st.sampled_from(RATES)),
                     modulation=draw(st.sampled_from(mods)),
                     ti_mode=draw(st.sampled_from(["off", "HTI", "CTI"])), cti_depth=512)


@st.composite
def configs(draw):
    subs = [draw(subframes(True))] + ([draw(subframes(False))] if draw(st.booleans()) else [])
    ids = iter(range(64))
    subs = [dataclasses.replace(s, plps=tuple(draw(plps(next(ids))) for _ in range(draw(st.integers(1, 2)))))
            for s in subs]
    base = dict(num_preamble_symbols=draw(st.integers(1, 3)), l1_basic_fec_mode=draw(st.integers(1, 5)),
                l1_detail_fec_mode=draw(st.integers(2, 6)),
                papr_reduction=draw(st.sampled_from(["off", "TR"])), tr_iterations=5,
                return_channel=draw(st.booleans()),
                bootstrap_generation=draw(st.sampled_from(["resampled", "native"])))
    # one FEC block per PLP to probe the capacity, then as many as the subframe takes
    small = [dataclasses.replace(s, plps=tuple(dataclasses.replace(p, fec_blocks=1, ldpc_length=16200,
                                                                   modulation="QPSK")
                                               for p in s.plps)) for s in subs]
    try:
        probe = Atsc3Config(**base, subframes=tuple(small))
    except ConfigError:
        return None
    sized = []
    for i, s in enumerate(subs):
        share = capacity(probe, i) // len(s.plps)
        blocks = [share // p.cells_per_fec_block for p in s.plps]
        if min(blocks) < 1:
            return None
        sized.append(dataclasses.replace(s, plps=tuple(
            dataclasses.replace(p, fec_blocks=min(b, 8),
                                hti_ti_blocks=1 if p.ti_mode != "HTI" else min(b, 8, 2))
            for p, b in zip(s.plps, blocks, strict=True))))
    cfg = Atsc3Config(**base, subframes=tuple(sized))
    if draw(st.booleans()):  # time-aligned: the next 5 ms step that holds the symbols
        tx = Atsc3Transmitter(cfg)
        ms = 5 * (int(tx.frame_samples_count / cfg.sample_rate * 1e3) // 5 + 1)
        try:
            cfg = dataclasses.replace(cfg, frame_length_ms=max(ms, 50))
        except ConfigError:  # more excess per symbol than L1-Basic can signal
            return cfg
    return cfg


def _payload(p: PlpConfig, n: int) -> np.ndarray:
    if p.input == "ts":
        return sample_stream(n)
    from sdrcast.mac.ip import udp_datagram

    return np.frombuffer(b"".join(udp_datagram(bytes(200 + i % 900), ("10.0.0.1", 1), ("239.0.0.1", 2))
                                  for i in range(n)), np.uint8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs())
def test_any_valid_configuration_makes_whole_frames(cfg):
    if cfg is None:
        return
    tx = Atsc3Transmitter(cfg)
    plist = [p for s in cfg.subframes for p in s.plps]
    iq = tx.modulate({p.plp_id: _payload(p, 20) for p in plist})
    assert iq.dtype == np.complex64 and iq.size and iq.size % tx.frame_samples_count == 0
    assert tx.bootstrap.size == 4 * 3072 * cfg.sample_rate / 6.144e6
    if cfg.frame_length_ms:
        assert tx.frame_samples_count == round(cfg.frame_length_ms * 1e-3 * cfg.sample_rate)
    cells = Atsc3Transmitter(cfg).frame_cells()[0]
    basic = parse_l1_basic(l1_decode(cells, "basic", cfg.l1_basic_fec_mode, 200)[0])
    s = cfg.subframes[0]
    assert basic["L1B_num_subframes"] == len(cfg.subframes) - 1
    assert basic["L1B_first_sub_num_ofdm_symbols"] == s.num_ofdm_symbols - 1
    assert basic["L1B_first_sub_reduced_carriers"] == s.reduced_carriers
    assert basic["L1B_papr_reduction"] == (cfg.papr_reduction == "TR")
    assert basic["L1B_frame_length_mode"] == (cfg.frame_length_ms is None)
    assert basic["L1B_lls_flag"] == any(p.lls for p in plist)
    assert basic["L1B_return_channel_flag"] == cfg.return_channel
    n_basic = fec_params("basic", cfg.l1_basic_fec_mode, 200)["cells"]
    coded = detail_cells(cells, cfg.num_preamble_symbols, n_basic, basic["L1B_L1_Detail_total_cells"])
    detail = parse_l1_detail(l1_decode(coded, "detail", cfg.l1_detail_fec_mode,
                                              8 * basic["L1B_L1_Detail_size_bytes"])[0], basic)
    assert detail["L1D_plp_id"] == [[p.plp_id for p in s.plps] for s in cfg.subframes]
    assert detail["L1D_plp_lls_flag"] == [[int(p.lls) for p in s.plps] for s in cfg.subframes]
    assert detail["L1D_plp_size"] == [[p.cells for p in s.plps] for s in cfg.subframes]
