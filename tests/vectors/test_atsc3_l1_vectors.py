"""L1 signalling of the gr-atsc3 sets: the L1-Basic and L1-Detail bits are read back from the
framed cells (file 07), checked by their CRC-32, parsed into fields, and written and protected
again by sdrcast: the cells must come out identical. This proves the L1 field codec (A/322
Tables 9.2/9.9, 2024 edition) and the whole L1 FEC chain (A/322 6.5) for L1-Basic modes 1, 2,
3, 4, 6 and L1-Detail modes 1-6, with L1-Detail gathered back from over several preamble
symbols where a set has them."""
import json

import numpy as np
import pytest

from sdrcast.phy.atsc3.frame_builder import detail_cells
from sdrcast.phy.atsc3.l1 import l1_basic, l1_detail, parse_l1_basic, parse_l1_detail
from sdrcast.phy.atsc3.l1_fec import cell_count, encode, fec_params
from sdrcast.phy.atsc3.l1_fec import decode as l1_decode
from tests.conftest import VECTORS


def _sets():
    out = []
    for case in json.loads((VECTORS / "manifest.json").read_text())["cases"]:
        if case["standard"] != "atsc3" or "tx" not in case["stages"]:
            continue
        d = VECTORS / "atsc3" / case["set"]
        g = json.loads((d / "metadata.json").read_text())["gr_atsc3_parameters"]
        c = g.get("common", g)
        with np.load(d / f"07_framed_cells{'_sub0' if 'sub1' in g else ''}.npz") as z:
            cells = z["cells"]
        out.append((case["set"][:9], cells, int(c["l1bmode"].rsplit("_", 1)[1]),
                    int(c["l1dmode"].rsplit("_", 1)[1]), c["numpreamblesyms"]))
    return out


SETS = _sets()


def _basic(cells, l1b_mode):
    n = fec_params("basic", l1b_mode, 200)["cells"]
    return parse_l1_basic(l1_decode(cells, "basic", l1b_mode, 200)[0]), n


@pytest.mark.parametrize("sid, cells, l1b_mode, l1d_mode, n_pre", SETS, ids=[s[0] for s in SETS])
def test_l1_basic_round_trip(sid, cells, l1b_mode, l1d_mode, n_pre):
    basic, n = _basic(cells, l1b_mode)
    assert basic["L1B_L1_Detail_fec_type"] == l1d_mode - 1
    assert basic["L1B_preamble_num_symbols"] == n_pre - 1
    np.testing.assert_array_equal(encode(l1_basic(basic), "basic", l1b_mode), cells[:n])
    k_sig = 8 * basic["L1B_L1_Detail_size_bytes"]
    assert cell_count("detail", l1d_mode, k_sig) == basic["L1B_L1_Detail_total_cells"]


@pytest.mark.parametrize("sid, cells, l1b_mode, l1d_mode, n_pre", SETS, ids=[s[0] for s in SETS])
def test_l1_detail_round_trip(sid, cells, l1b_mode, l1d_mode, n_pre):
    basic, n_basic = _basic(cells, l1b_mode)
    k_sig = 8 * basic["L1B_L1_Detail_size_bytes"]
    seg = detail_cells(cells, n_pre, n_basic, basic["L1B_L1_Detail_total_cells"])
    detail = parse_l1_detail(l1_decode(seg, "detail", l1d_mode, k_sig)[0], basic)
    assert detail["L1D_plp_size"][0][0] > 0
    np.testing.assert_array_equal(encode(l1_detail(detail, basic), "detail", l1d_mode), seg)


def test_a_flipped_bit_fails_the_crc():
    from sdrcast.errors import ParseError

    sid, cells, l1b_mode, *_ = SETS[0]
    bits = l1_decode(cells, "basic", l1b_mode, 200)[0]
    bits[17] ^= 1
    with pytest.raises(ParseError, match="CRC"):
        parse_l1_basic(bits)
