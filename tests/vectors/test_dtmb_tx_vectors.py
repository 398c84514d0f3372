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
