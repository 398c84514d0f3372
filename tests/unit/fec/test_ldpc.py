import numpy as np
import pytest

from sdrcast.errors import ConfigError
from sdrcast.phy.fec import LdpcCode
from sdrcast.phy.fec.ldpc import ATSC3_RATES, DTMB_RATES

ALL = [("atsc3", n, r) for n in (16200, 64800) for r in ATSC3_RATES] + \
      [("dtmb", None, r) for r in DTMB_RATES]


def code_of(std, n, rate):
    return LdpcCode.atsc3(n, rate) if std == "atsc3" else LdpcCode.dtmb(rate)


def bpsk_llr(cw, ebn0_db, rate, rng):
    sigma = np.sqrt(1 / (2 * rate * 10 ** (ebn0_db / 10)))
    y = 1 - 2 * cw.astype(np.float32) + sigma * rng.standard_normal(cw.shape).astype(np.float32)
    return (2 * y / sigma**2).astype(np.float32)


@pytest.mark.parametrize("std, n, rate", ALL, ids=[f"{s}-{n}-{r}" for s, n, r in ALL])
def test_every_code_encodes_to_a_codeword_and_decodes_noiselessly(std, n, rate, rng):
    code = code_of(std, n, rate)
    info = rng.integers(0, 2, (3, code.k), dtype=np.uint8)
    cw = code.encode(info)
    assert cw.shape == (3, code.n)
    mother = np.zeros((3, code.n_mother), np.uint8)
    mother[:, code.tx_cols] = cw
    if code.n != code.n_mother:  # DTMB: re-derive the punctured parity bits from H
        mother = _complete_punctured(code, mother)
    assert code.syndrome_ok_mother(mother).all()
    np.testing.assert_array_equal(mother[:, code.info_cols], info)  # systematic
    llr = (1 - 2 * cw.astype(np.float32)) * 3
    for precision in ("float32", "int8"):
        dec, rep = code.decode(llr, iterations=20, precision=precision)
        np.testing.assert_array_equal(dec, info)
        assert rep.parity_ok.all()


def _complete_punctured(code, mother):
    """Punctured bits solved by decoding with erasures there (exercises the decoder too)."""
    llr = (1 - 2 * mother.astype(np.float32)) * 5
    llr[:, np.setdiff1d(np.arange(code.n_mother), code.tx_cols)] = 0
    from sdrcast.phy.kernels.ldpc import decode_layered_minsum

    hard, _, ok = decode_layered_minsum(np.ascontiguousarray(llr.T), code.row_ptr, code.col_idx,
                                        20, 0.75, True)
    assert ok.all()
    return np.ascontiguousarray(hard.T)


def test_known_structure_constants():
    c = LdpcCode.atsc3(64800, "10/15")
    assert (c.n, c.k) == (64800, 43200)
    d = LdpcCode.dtmb(0.6)
    assert (d.n, d.k, d.n_mother) == (7488, 4572, 7493)
    assert list(d.tx_cols[:2]) == [5, 6]


@pytest.mark.parametrize("std, n, rate, ebn0", [("atsc3", 16200, "8/15", 2.8),
                                                ("atsc3", 64800, "4/15", 1.2),
                                                ("dtmb", None, 0.6, 3.0)])
def test_decoders_correct_channel_errors(std, n, rate, ebn0, rng):
    code = code_of(std, n, rate)
    info = rng.integers(0, 2, (16, code.k), dtype=np.uint8)
    llr = bpsk_llr(code.encode(info), ebn0, code.rate, rng)
    raw_errors = np.count_nonzero((llr < 0) != code.encode(info))
    assert raw_errors > 100 * 16  # the channel really corrupts bits
    for precision in ("float32", "int8"):
        dec, rep = code.decode(llr, iterations=50, precision=precision, workers=2, batch=8)
        assert np.count_nonzero(dec != info) == 0, precision
        assert rep.parity_ok.all() and rep.iterations.max() > 1


def test_iteration_limit_and_failure_are_reported(rng):
    code = LdpcCode.dtmb(0.8)
    info = rng.integers(0, 2, (4, code.k), dtype=np.uint8)
    llr = bpsk_llr(code.encode(info), 0.0, code.rate, rng)  # far below threshold
    _, rep = code.decode(llr, iterations=3)
    assert not rep.parity_ok.any() and (rep.iterations == 3).all()


def test_sum_product_reference_decoder(rng):
    code = LdpcCode.dtmb(0.8)
    info = rng.integers(0, 2, (2, code.k), dtype=np.uint8)
    llr = bpsk_llr(code.encode(info), 4.0, code.rate, rng)
    dec, rep = code.decode_spa(llr, iterations=30)
    np.testing.assert_array_equal(dec, info)
    assert rep.parity_ok.all()


def test_bad_input_names_the_problem():
    code = LdpcCode.dtmb(0.4)
    with pytest.raises(ConfigError, match=r"shape \(batch, 3048\)"):
        code.encode(np.zeros(100, np.uint8))
    with pytest.raises(ConfigError, match="precision"):
        code.decode(np.zeros(7488, np.float32), precision="int4")
    with pytest.raises(ConfigError, match="rate=0.5"):
        LdpcCode.dtmb(0.5)
    with pytest.raises(ConfigError, match="rate='7/16'"):
        LdpcCode.atsc3(64800, "7/16")
