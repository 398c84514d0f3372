"""Atsc3Transmitter end to end against gr-atsc3: for every set (TI off, HTI, CTI, TDM PLPs, two
subframes, LDM, L1 mode 6), ``Atsc3Config.load(config.toml)`` and the set's
input TS give the framed cells of file 07 (exactly; LDM to 1e-6, gr-atsc3 rounds its alpha and
beta) and the frame of file 10 (bootstrap within -40 dB NMSE of gr-atsc3's resampling filter,
OFDM symbols within 1e-4 of the peak)."""
import json

import numpy as np
import pytest

from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter
from tests.conftest import VECTORS

SETS = [c for c in json.loads((VECTORS / "manifest.json").read_text())["cases"]
        if c["standard"] == "atsc3" and "config.toml" in c.get("files", {})]


def _payload(d, cfg):
    meta = json.loads((d / "metadata.json").read_text())
    plps = [p for sub in cfg.subframes for p in sub.plps]
    if len(plps) == 1:
        return np.fromfile(d / "00_input_ts.bin", np.uint8)
    return {p.plp_id: np.fromfile(d / f"00_input_ts{ip['file_suffix']}.bin", np.uint8)
            for p, ip in zip(plps, meta["input"]["plps"], strict=True)}


@pytest.mark.parametrize("case", SETS, ids=[c["set"][:9] for c in SETS])
def test_transmitter_reproduces_the_frame(case):
    d = VECTORS / "atsc3" / case["set"]
    cfg = Atsc3Config.load(d / "config.toml")
    tx = Atsc3Transmitter(cfg)
    payload = _payload(d, cfg)
    stored = json.loads((d / "metadata.json").read_text())["generator"]["frame_index_stored"]
    for plp_id, ts in (payload.items() if isinstance(payload, dict) else [(0, payload)]):
        tx.plps[plp_id].push(ts)
    framed = [tx.frame_cells() for _ in range(stored + 1)][-1]  # CTI sets store frame 3
    names = ["07_framed_cells.npz"] if len(framed) == 1 else [
        f"07_framed_cells_sub{i}.npz" for i in range(len(framed))]
    for cells, name in zip(framed, names, strict=True):
        with np.load(d / name) as z:  # exact, but LDM (gr-atsc3's rounded alpha/beta)
            ref = z["cells"]
            np.testing.assert_allclose(cells, ref, rtol=0, atol=1e-6 * np.abs(ref).max())
    iq = Atsc3Transmitter(cfg).modulate(payload)
    ref = np.fromfile(d / "10_baseband_6912ksps.cf32", np.complex64)
    iq = iq[stored * ref.size:]
    assert tx.sample_rate == 6.912e6 and iq.size >= ref.size
    boot = 13824
    err = iq[:boot] - ref[:boot]
    assert 10 * np.log10(np.sum(np.abs(err) ** 2) / np.sum(np.abs(ref[:boot]) ** 2)) < -40
    assert np.max(np.abs(iq[boot:ref.size] - ref[boot:])) <= 1e-4 * np.max(np.abs(ref))


def test_config_errors_name_the_field():
    from sdrcast.errors import ConfigError
    from sdrcast.phy.atsc3 import PlpConfig, SubframeConfig

    with pytest.raises(ConfigError, match="modulation"):
        PlpConfig(ldpc_length=16200, modulation="4096QAM")
    with pytest.raises(ConfigError, match="guard_interval"):
        SubframeConfig(fft_size=8192, guard_interval=9)
    with pytest.raises(ConfigError, match="scattered_pilot_pattern"):
        SubframeConfig(fft_size=8192, guard_interval=7, scattered_pilot_pattern="SP32_2")
    with pytest.raises(ConfigError, match="cells per frame"):
        Atsc3Config(subframes=(SubframeConfig(num_ofdm_symbols=10,
                                              plps=(PlpConfig(fec_blocks=40),)),))


def test_spectrum_fits_the_6_mhz_channel():
    """99 % of the power within about 5.8 MHz at 6.912 Msps (NoC x 6.912 MHz / N = 5.83 MHz)."""
    from sdrcast.analysis.metrics import occupied_bandwidth

    d = VECTORS / "atsc3" / "atsc3_s01_8k_gi1024_sp3_4_ldpc64k_r9_nuc256_tioff"
    cfg = Atsc3Config.load(d / "config.toml")
    iq = Atsc3Transmitter(cfg).modulate(np.fromfile(d / "00_input_ts.bin", np.uint8))
    bw = occupied_bandwidth(iq[13824:], cfg.sample_rate)["bandwidth_hz"]
    assert 5.7e6 < bw < 5.9e6
