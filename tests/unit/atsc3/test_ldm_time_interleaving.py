"""LDM with hybrid time interleaving: the layers are combined first, then interleaved together
with the core PLP's FEC-block structure; both PLPs signal HTI. Checked against gr-atsc3's LDM
combiner output of s08 (file 06) through sdrcast's HTI (itself bit-exact on s02/s04)."""
import dataclasses

import numpy as np
import pytest

from sdrcast.errors import ConfigError
from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter
from sdrcast.phy.atsc3.l1 import parse_l1_basic, parse_l1_detail
from sdrcast.phy.atsc3.l1_fec import decode as l1_decode
from sdrcast.phy.atsc3.l1_fec import fec_params
from sdrcast.phy.atsc3.time_interleaver import hybrid
from tests.conftest import VECTORS

S08 = VECTORS / "atsc3" / "atsc3_s08_16k_gi1024_sp6_4_ldm_core_qpsk_r4_enh_nuc64_r10_m5db"


def _with_ti(cfg, **plp):
    sub = cfg.subframes[0]
    plps = tuple(dataclasses.replace(p, **plp) for p in sub.plps)
    return dataclasses.replace(cfg, subframes=(dataclasses.replace(sub, plps=plps),))


def test_ldm_layers_are_interleaved_together():
    cfg = _with_ti(Atsc3Config.load(S08 / "config.toml"), ti_mode="HTI", hti_ti_blocks=2)
    tx = Atsc3Transmitter(cfg)
    tx.feed(0, np.fromfile(S08 / "00_input_ts_plp0_core.bin", np.uint8))
    tx.feed(1, np.fromfile(S08 / "00_input_ts_plp1_enhanced.bin", np.uint8))
    framed = tx.frame_cells()[0]
    with np.load(S08 / "06_ldm_combined_cells.npz") as z:
        combined = z["cells"]
    core = cfg.subframes[0].plps[0]
    want = hybrid(combined, core.cells_per_fec_block, 2, core.fec_blocks, True)
    with np.load(S08 / "07_framed_cells.npz") as z:  # TI off: where the PLP cells start
        start = int(np.flatnonzero(np.isclose(z["cells"], combined[0]))[0])
    got = framed[start:][framed[start:] != 0][:want.size]  # SBS null cells skipped
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    n_basic = fec_params("basic", cfg.l1_basic_fec_mode, 200)["cells"]
    basic = parse_l1_basic(l1_decode(framed, "basic", cfg.l1_basic_fec_mode, 200)[0])
    detail = parse_l1_detail(l1_decode(
        framed[n_basic:], "detail", cfg.l1_detail_fec_mode, 8 * basic["L1B_L1_Detail_size_bytes"])[0],
        basic)
    assert detail["L1D_plp_TI_mode"][0] == [2, 2] and detail["L1D_plp_layer"][0] == [0, 1]


def test_ldm_layers_must_share_the_ti_mode():
    cfg = Atsc3Config.load(S08 / "config.toml")
    sub = cfg.subframes[0]
    core, enh = sub.plps
    with pytest.raises(ConfigError, match="must be its core PLP's"):
        dataclasses.replace(cfg, subframes=(dataclasses.replace(
            sub, plps=(dataclasses.replace(core, ti_mode="HTI"), enh)),))
    with pytest.raises(ConfigError, match="convolutional"):
        _with_ti(cfg, ti_mode="CTI")
