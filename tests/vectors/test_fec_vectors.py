"""BCH and LDPC stages of every shared vector set reproduced bit-exact from the previous stage,
and decoded back (vectors/manifest.json)."""
import json

import numpy as np
import pytest

from sdrcast.phy.fec import BchCode, LdpcCode
from tests.conftest import VECTORS

CASES = [c for c in json.loads((VECTORS / "manifest.json").read_text())["cases"]
         if "ldpc" in c["stages"]]
ATSC3 = [c for c in CASES if c["standard"] == "atsc3"]
DTMB = [c for c in CASES if c["standard"] == "dtmb"]


def _ids(cases):
    return [f"{c['set']}:{c.get('plp', '')}" for c in cases]


def _bits(path):
    return np.unpackbits(np.load(VECTORS / path), axis=1)


@pytest.mark.parametrize("case", ATSC3, ids=_ids(ATSC3))
def test_atsc3_bch_and_ldpc_bit_exact(case):
    bch, ldpc = BchCode.atsc3(case["n"], case["rate"]), LdpcCode.atsc3(case["n"], case["rate"])
    bb, b03, b04 = (_bits(case["files"][s]) for s in ("02", "03", "04"))
    assert bb.shape[1] == bch.k and b03.shape[1] == bch.n == ldpc.k and b04.shape[1] == ldpc.n
    np.testing.assert_array_equal(bch.encode(bb), b03)
    np.testing.assert_array_equal(ldpc.encode(b03), b04)
    assert ldpc.syndrome_ok(b04).all()
    # and back: noiseless LLRs decode to the BCH codewords, BCH returns the baseband packets
    dec, report = ldpc.decode((1 - 2 * b04[:2].astype(np.float32)) * 4, iterations=5)
    np.testing.assert_array_equal(dec, b03[:2])
    assert report.parity_ok.all() and (report.iterations == 1).all()
    msg, fixed = bch.decode(b03[:2])
    np.testing.assert_array_equal(msg, bb[:2])
    assert (fixed == 0).all()


@pytest.mark.parametrize("case", DTMB, ids=_ids(DTMB))
def test_dtmb_bch_and_ldpc_bit_exact(case):
    bch, ldpc = BchCode.dtmb(), LdpcCode.dtmb(case["rate"])
    f = {k: np.load(VECTORS / v) for k, v in case["files"].items() if v.endswith(".npy")}
    scrambled = f["01"].reshape(-1, 752)
    blocks = f["02"].reshape(-1, 762)
    np.testing.assert_array_equal(bch.encode(scrambled), blocks)
    np.testing.assert_array_equal(bch.decode(blocks)[0], scrambled)
    msgs = f["02"].reshape(-1, ldpc.k)
    tx = f["03"].reshape(-1, ldpc.n)
    mother = f["03b"].reshape(-1, ldpc.n_mother)
    np.testing.assert_array_equal(ldpc.encode(msgs), tx)
    assert ldpc.syndrome_ok_mother(mother).all()
    dec, report = ldpc.decode((1 - 2 * tx.astype(np.float32)) * 4, iterations=10)
    np.testing.assert_array_equal(dec, msgs)
    assert report.parity_ok.all()
