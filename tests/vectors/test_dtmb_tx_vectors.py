"""Every DTMB transmitter stage of the six short dtmb-sdr vector sets, from the TS bytes, with
the config.toml beside each set (vectors/manifest.json)."""
import json

import numpy as np
import pytest

from sdrcast.phy.dtmb import DtmbConfig, DtmbTransmitter
from tests.conftest import VECTORS

CASES = [c for c in json.loads((VECTORS / "manifest.json").read_text())["cases"]
         if c["standard"] == "dtmb" and "tx" in c["stages"]]
STAGES = [("01", "scrambled"), ("02", "bch"), ("03", "ldpc"), ("04", "mapped"),
          ("05", "interleaved"), ("06", "body_logical"), ("07", "body"), ("08", "framed")]


@pytest.mark.parametrize("case", CASES, ids=[c["set"] for c in CASES])
def test_dtmb_transmitter_reproduces_every_stage(case):
    cfg = DtmbConfig.load(VECTORS / case["files"]["config"])
    meta = json.loads((VECTORS / case["files"]["meta.json"]).read_text())
    assert cfg.si_index == meta["system_info_index"]
    assert cfg.ts_bytes_per_frame == meta["ts_bytes_per_frame"]
    assert cfg.frame_symbols == meta["frame_symbols"]
    tx = DtmbTransmitter(cfg)
    out = tx.stages(np.load(VECTORS / case["files"]["00"]))
    assert tx.null_packets_added == 0
    for key, name in STAGES:
        ref = np.load(VECTORS / case["files"][key])
        got = out[name]
        assert got.shape == ref.shape, name
        if ref.dtype == np.uint8:
            np.testing.assert_array_equal(got, ref, err_msg=name)
        else:  # samples: max relative error <= 1e-4
            assert np.max(np.abs(got - ref)) <= 1e-4 * np.max(np.abs(ref)), name


def test_receiver_decodes_the_long_340_frame_signal():
    """dtmb-sdr's 340-frame PN945 / C=3780 / 64QAM 0.8 signal (CI8 recording), received with no
    configuration: every frame out of the deinterleaver (170) decodes to the source TS."""
    from sdrcast.phy.dtmb import DtmbReceiver
    from sdrcast.sdr_io import read_samples

    case = next(c for c in json.loads((VECTORS / "manifest.json").read_text())["cases"]
                if "rx" in c["stages"])
    iq, _ = read_samples(VECTORS / case["files"]["08_ci8"], fmt="cs8")
    ts = np.load(VECTORS / case["files"]["00"])
    out, rep = DtmbReceiver().demodulate(iq)
    assert rep["config"]["constellation"] == "64QAM" and rep["config"]["ldpc_rate"] == 0.8
    assert rep["sync"]["start"] == 0  # synced to the very first frame
    assert out.size == 170 * 2256
    np.testing.assert_array_equal(out, ts[:out.size])
    assert rep["ldpc_failures"] == 0 and rep["bch_failures"] == 0
