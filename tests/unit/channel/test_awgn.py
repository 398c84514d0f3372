import numpy as np
import scipy.special

from sdrcast.analysis.metrics import bit_errors
from sdrcast.channel.awgn import Awgn, add_awgn
from sdrcast.phy.mapping import Constellation
from sdrcast.runtime import FrameBlock
from sdrcast.runtime.testing import assert_chunk_invariant


def test_measured_snr_matches_request_over_a_million_samples():
    x = np.exp(2j * np.pi * np.random.default_rng(0).random(1_000_000)).astype(np.complex64)
    for snr in (0.0, 10.0, 25.0):
        y = Awgn(snr, seed=3)(x)
        measured = 10 * np.log10(1 / np.mean(np.abs(y - x) ** 2))
        assert abs(measured - snr) < 0.05


def test_add_awgn_measures_signal_power_when_not_given():
    x = np.full(1_000_000, 3.0, np.complex64)
    y = add_awgn(x, 20.0, 1)
    assert abs(10 * np.log10(9 / np.mean(np.abs(y - x) ** 2)) - 20) < 0.05


def test_awgn_is_chunk_invariant():
    x = np.ones(20_000, np.complex64)
    assert_chunk_invariant(lambda: FrameBlock(Awgn(10.0, seed=7)), x, trials=3)


def test_qpsk_uncoded_ber_matches_theory_at_three_snrs():
    c = Constellation.qam(4)
    bits = np.random.default_rng(6).integers(0, 2, 2 * 500_000, dtype=np.uint8)
    tx = c.map(bits)
    for esn0_db in (4.0, 7.0, 9.0):
        rx = Awgn(esn0_db, seed=int(esn0_db))(tx)
        ber = bit_errors(bits, (c.demap(rx, 1.0) < 0).astype(np.uint8))["ber"]
        theory = 0.5 * scipy.special.erfc(np.sqrt(10 ** (esn0_db / 10) / 2))  # Gray QPSK, exact
        assert abs(ber / theory - 1) < 0.05, (esn0_db, ber, theory)


def test_qam16_uncoded_ber_matches_theory_at_three_snrs():
    c = Constellation.qam(16)
    rng = np.random.default_rng(5)
    bits = rng.integers(0, 2, 4 * 250_000, dtype=np.uint8)
    tx = c.map(bits)
    for esn0_db in (10.0, 12.0, 14.0):
        rx = Awgn(esn0_db, seed=int(esn0_db))(tx)
        ber = bit_errors(bits, (c.demap(rx, 1.0) < 0).astype(np.uint8))["ber"]
        # Gray 16QAM: BER ~ (3/8) erfc(sqrt(Es/N0 / 10)) (nearest-neighbour approximation)
        theory = 3 / 8 * scipy.special.erfc(np.sqrt(10 ** (esn0_db / 10) / 10))
        assert abs(ber / theory - 1) < 0.05, (esn0_db, ber, theory)
