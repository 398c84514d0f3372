"""LTE channel coding (36.212): turbo and tail-biting convolutional round trips through AWGN
at documented Es/N0, code-block segmentation and rate matching properties, CRC attach/check."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdrcast.phy.crc import CRC24A, CRC24B
from sdrcast.phy.fec.convolutional import ConvCode
from sdrcast.phy.fec.rate_matching import RateMatcher
from sdrcast.phy.fec.turbo import TurboCode, qpp_table, segment
from sdrcast.phy.fembms.transport import TransportCoding


def _awgn_llr(bits, esn0_db, rng):
    """BPSK at Es/N0 (dB) -> LLRs, positive = 0."""
    n0 = 10 ** (-esn0_db / 10)
    y = 1 - 2.0 * bits + np.sqrt(n0 / 2) * rng.standard_normal(bits.shape)
    return (4 * y / n0).astype(np.float32)


def test_qpp_table_gives_permutations():
    table = qpp_table()
    assert len(table) == 188 and min(table) == 40 and max(table) == 6144
    for K in (40, 1008, 4032, 6144):
        assert np.array_equal(np.sort(TurboCode.lte(K).perm), np.arange(K))


@given(st.integers(1, 80000))
def test_segmentation_covers_the_block(B):
    seg = segment(B)
    sizes = np.array(seg.sizes)
    assert sum(sizes) == B + 24 * (seg.C if seg.C > 1 else 0) + seg.filler
    assert 0 <= seg.filler < 64 and all(s in qpp_table() for s in seg.sizes)
    assert seg.C == (1 if B <= 6144 else -(-B // 6120)) and len(set(seg.sizes)) <= 2


@pytest.mark.parametrize("tbs, G, qm, esn0", [(4008, 5100, 2, 2.5), (75376, 100800, 6, 3.5),
                                              (1096, 6000, 2, -3.5), (16, 144, 2, 0.0)])
def test_transport_block_round_trip(tbs, G, qm, esn0, rng):
    """CRC24A, segmentation (13 blocks with CRC24B at 75376), turbo, rate matching with
    repetition (G > 3 K) and puncturing (G < 3 K), decoded with early stop."""
    tc = TransportCoding(tbs, G, qm)
    tb = rng.integers(0, 2, tbs, np.uint8)
    e = tc.encode(tb)
    assert e.size == G
    out, ok, its = tc.decode(_awgn_llr(e, esn0, rng), iterations=8)
    assert ok and np.array_equal(out, tb) and max(its) < 8
    out, ok, _ = tc.decode(_awgn_llr(e, esn0 - 10, rng), iterations=8)
    assert not ok  # 10 dB lower: the CRC says so


def test_turbo_decoder_corrects_what_hard_decisions_miss(rng):
    code = TurboCode.lte(6144)
    c = rng.integers(0, 2, 6144, np.uint8)
    llr = _awgn_llr(code.encode(c), -4.0, rng)  # rate 1/3 at Es/N0 -4 dB: Eb/N0 0.8 dB
    assert np.mean((llr[0, :6144] < 0) != c) > 0.05
    bits, its, ok = code.decode(llr, 8, crc=None)
    assert np.array_equal(bits, c) and its == 8 and not ok


@pytest.mark.parametrize("K, esn0", [(40, 1.0), (64, 1.0)])
def test_tail_biting_code_round_trip(K, esn0, rng):
    code = ConvCode.lte()
    fails = 0
    for _ in range(30):
        c = rng.integers(0, 2, K, np.uint8)
        fails += not np.array_equal(code.decode(_awgn_llr(code.encode(c), esn0, rng)), c)
    assert fails <= 1
    c = rng.integers(0, 2, K, np.uint8)
    d = code.encode(c)
    assert np.array_equal(code.decode(np.where(d == 0, 1.0, -1.0)), c)


@given(st.sampled_from([40, 512, 4032]), st.integers(8, 20000), st.integers(0, 3), st.integers(0, 30))
def test_rate_matching_inverse_combines_every_bit_sent(K, E, rv, filler):
    """De-rate-matching of all-ones LLRs counts how often each stream bit was sent; the counts
    add up to E; filler and padding bits are never sent."""
    rm = RateMatcher.turbo(K, E, rv, filler)
    counts = rm.llrs(np.ones(E))
    assert counts.sum() == E and counts[:2, :filler].sum() == 0
    d = np.random.default_rng(E).integers(0, 2, (3, K + 4), np.uint8)
    e = rm.match(d)
    signed = rm.llrs(1 - 2.0 * e)
    sent = counts > 0
    assert np.array_equal(signed[sent] < 0, d[sent] == 1)


def test_redundancy_versions_start_at_different_points():
    d = np.random.default_rng(0).integers(0, 2, (3, 1012), np.uint8)
    starts = [RateMatcher.turbo(1008, 500, rv).match(d) for rv in range(4)]
    assert len({s.tobytes() for s in starts}) == 4


def test_crc_attach_and_check_catch_one_flip(rng):
    bits = rng.integers(0, 2, 1000, np.uint8)
    for crc in (CRC24A, CRC24B):
        w = crc.attach(bits)
        assert crc.check(w)
        w[rng.integers(0, w.size)] ^= 1
        assert not crc.check(w)
