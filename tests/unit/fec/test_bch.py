import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdrcast.errors import ConfigError
from sdrcast.phy.fec import BchCode
from sdrcast.phy.fec.ldpc import ATSC3_RATES

SHORT = BchCode.atsc3(16200, "6/15")
LONG = BchCode.atsc3(64800, "13/15")
MSG_RNG = np.random.default_rng(99)
SHORT_CW = SHORT.encode(MSG_RNG.integers(0, 2, SHORT.k, dtype=np.uint8))
LONG_CW = LONG.encode(MSG_RNG.integers(0, 2, LONG.k, dtype=np.uint8))


@pytest.mark.parametrize("n", [16200, 64800])
@pytest.mark.parametrize("rate", ATSC3_RATES)
def test_all_atsc3_bch_codes_build_and_round_trip(n, rate):
    code = BchCode.atsc3(n, rate)  # construction checks g(alpha^j) = 0, j = 1..2t
    assert code.n - code.k == (192 if n == 64800 else 168)
    msg = np.random.default_rng(0).integers(0, 2, (2, code.k), dtype=np.uint8)
    cw = code.encode(msg)
    np.testing.assert_array_equal(cw[:, :code.k], msg)
    dec, fixed = code.decode(cw)
    np.testing.assert_array_equal(dec, msg)
    assert (fixed == 0).all()


@settings(max_examples=40)
@given(st.data())
def test_corrects_every_pattern_of_up_to_t_errors(data):
    for code, cw in ((SHORT, SHORT_CW), (LONG, LONG_CW)):
        pos = data.draw(st.sets(st.integers(0, code.n - 1), max_size=code.t))
        r = cw.copy()
        r[list(pos)] ^= 1
        dec, fixed = code.decode(r)
        np.testing.assert_array_equal(dec, cw[:code.k])
        assert fixed == len(pos)


@settings(max_examples=15)
@given(st.sets(st.integers(0, SHORT.n - 1), min_size=SHORT.t + 1, max_size=SHORT.t + 1))
def test_flags_t_plus_one_errors(pos):
    r = SHORT_CW.copy()
    r[list(pos)] ^= 1
    _, fixed = SHORT.decode(r)
    assert fixed == -1


@given(st.integers(0, 761))
def test_dtmb_bch_corrects_any_single_error(pos):
    code = BchCode.dtmb()
    msg = np.random.default_rng(pos).integers(0, 2, 752, dtype=np.uint8)
    r = code.encode(msg)
    r[pos] ^= 1
    dec, fixed = code.decode(r)
    np.testing.assert_array_equal(dec, msg)
    assert fixed == 1


def test_dtmb_bch_never_reports_a_double_error_as_clean():
    code = BchCode.dtmb()
    cw = code.encode(np.zeros(752, np.uint8))
    rng = np.random.default_rng(3)
    for _ in range(50):
        r = cw.copy()
        r[rng.choice(762, 2, replace=False)] ^= 1
        dec, fixed = code.decode(r)
        # t = 1: two errors are either flagged or miscorrected (distance 3), never "0 errors"
        assert fixed != 0 and (fixed == -1 or dec.any())


def test_batch_and_workers():
    msgs = np.random.default_rng(1).integers(0, 2, (6, SHORT.k), dtype=np.uint8)
    cw = SHORT.encode(msgs)
    cw[np.arange(6), np.arange(6) * 100] ^= 1
    dec, fixed = SHORT.decode(cw, workers=2)
    np.testing.assert_array_equal(dec, msgs)
    assert list(fixed) == [1] * 6


def test_bad_input():
    with pytest.raises(ConfigError, match="codeword must have shape"):
        SHORT.decode(np.zeros(10, np.uint8))
    with pytest.raises(ConfigError, match="n=32400"):
        BchCode.atsc3(32400, "6/15")


def test_atsc3_crc32_outer_code():
    from sdrcast.phy.fec import CrcCode
    from sdrcast.phy.fec.crc_outer import ATSC3_CRC32

    code = CrcCode.atsc3(16200, "8/15")
    assert (code.k, code.n) == (8640 - 32, 8640)
    msg = np.random.default_rng(4).integers(0, 2, (3, code.k), dtype=np.uint8)
    cw = code.encode(msg)
    # bit-level CRC equals the byte-table CRC of the same message
    assert int("".join(map(str, cw[0, code.k:])), 2) == ATSC3_CRC32(np.packbits(msg[0]))
    cw[1, 100] ^= 1
    dec, ok = code.decode(cw)
    assert list(ok) == [True, False, True]
    np.testing.assert_array_equal(dec[0], msg[0])
