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


LONG = [c for c in json.loads((VECTORS / "manifest.json").read_text())["cases"]
        if c["standard"] == "dtmb" and "rx" in c["stages"]]


def _long_iq(case) -> np.ndarray:
    from sdrcast.sdr_io import read_samples

    path = VECTORS / case["files"]["08_ci8"]
    if path.suffix == ".npy":  # int8 (samples, 2): I, Q
        ci8 = np.load(path).astype(np.float32)
        return (ci8[:, 0] + 1j * ci8[:, 1]).astype(np.complex64)
    return read_samples(path, fmt="cs8")[0]


@pytest.mark.parametrize("case", LONG, ids=[c["set"] for c in LONG])
def test_receiver_decodes_the_long_signals(case):
    """dtmb-sdr's long signals (PN945/64QAM 0.8, 340 frames; PN420/16QAM 0.8, 400 frames),
    int8 recordings received with no configuration from their first frame: every TS frame the
    signal fully carries comes out byte-exact (the first 170 frames fill the deinterleaver)."""
    from sdrcast.phy.dtmb import DtmbReceiver

    meta = json.loads((VECTORS / case["files"]["meta.json"]).read_text())
    ts = np.load(VECTORS / case["files"]["00"])
    out, rep = DtmbReceiver().demodulate(_long_iq(case))
    assert rep["config"]["constellation"] == meta["constellation"]
    assert rep["config"]["ldpc_rate"] == meta["ldpc_rate"]
    assert rep["config"]["header"] == meta["header_mode"]
    assert rep["sync"]["start"] == 0  # synced to the very first frame
    first, last = case["decodable_ts_frames"]
    n = (last - first + 1) * meta["ts_bytes_per_frame"]
    assert out.size >= n
    np.testing.assert_array_equal(out[:n], ts[:n])
    assert rep["ldpc_failures"] == 0 and rep["bch_failures"] == 0
