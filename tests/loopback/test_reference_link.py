"""The generic OFDM+QAM reference link, TX -> AWGN -> RX, alone and as the demo flowgraph."""
import json

import numpy as np
import pytest

from sdrcast.channel.awgn import Awgn
from sdrcast.errors import ConfigError
from sdrcast.flowgraphs.demo import run_demo
from sdrcast.phy.reference_link import ReferenceLink, ReferenceLinkConfig


@pytest.mark.parametrize("order, snr_db", [(4, 15.0), (16, 25.0), (64, 32.0)])
def test_zero_errors_at_high_snr(order, snr_db):
    link = ReferenceLink(ReferenceLinkConfig(order=order))
    bits = np.random.default_rng(order).integers(0, 2, 5 * link.cfg.bits_per_frame, dtype=np.uint8)
    iq = link.modulate(bits)
    assert abs(np.mean(np.abs(iq) ** 2) - 1) < 0.02
    llr, eq, report = link.demodulate(Awgn(snr_db, seed=1)(iq))
    assert np.array_equal((llr < 0).astype(np.uint8), bits)
    assert report["mer_db"] > snr_db - 4


def test_config_validation_names_field():
    with pytest.raises(ConfigError, match="order=8"):
        ReferenceLinkConfig(order=8)
    with pytest.raises(ConfigError, match="n_carriers"):
        ReferenceLinkConfig(n_carriers=5000)


def test_demo_writes_summary_and_plots(tmp_path):
    res = run_demo(tmp_path, quick=True)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["reference"]["ber"]["ber"] < 1e-3
    assert res["reference"]["x_real_time"] > 0
    assert summary["dtmb"]["ts_packet_errors"] == 0 and summary["dtmb"]["bch_failures"] == 0
    assert summary["reference_tu6"]["ber"]["ber"] > summary["reference"]["ber"]["ber"]
    a = summary["atsc3"]
    assert a["bootstrap_ok"] and 5.7e6 < a["occupied_bandwidth_hz"] < 5.9e6
    assert a["ber"]["ber"] == 0 and a["fer"]["errors"] == 0 and a["l1_errors"] == 0 and a["frames"] >= 1
    assert a["configuration_read_from_l1"] and "configuration read from L1" in a["notes"]
    acq = a["acquisition"]
    assert acq["start"] == acq["start_true"] and abs(acq["cfo_hz"] - acq["cfo_true_hz"]) < 20
    for png in ("reference_spectrum.png", "reference_constellation.png", "reference_tu6_channel.png",
                "dtmb_spectrum.png", "dtmb_constellation.png", "atsc3_spectrum.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
