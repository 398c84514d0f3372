"""phy/sync: the shared synchronisation toolkit (issue 10), on signals with known answers."""
import numpy as np
import pytest

from sdrcast.phy.sync import PiLoop, cfo_from_phase, moving_sum, normalised_xcorr, repetition_correlation


def test_moving_sum_is_exact_over_long_float32_input():
    x = np.full(3_000_000, 0.1, np.float32)
    x[::7] = 1e3  # large values make float32 running sums drift
    want = np.convolve(x.astype(np.float64), np.ones(5), "valid")
    np.testing.assert_allclose(moving_sum(x, 5), want, atol=1e-5)
    c = np.concatenate([[0], np.cumsum(x)])  # what float32 running sums give instead
    assert np.abs((c[5:] - c[:-5]) - want).max() > 1e-2


@pytest.mark.parametrize("cfo", [-1234.5, 0.0, 1900.0])  # within +-fs / 2n
def test_cyclic_prefix_gives_timing_and_fractional_cfo(cfo, rng):
    fs, n, cp, start = 1e6, 256, 32, 777
    sym = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
    x = np.concatenate([np.zeros(start, np.complex64), sym[-cp:], sym, np.zeros(500, np.complex64)])
    x = (x * np.exp(2j * np.pi * cfo / fs * np.arange(x.size))).astype(np.complex64)
    x += 0.01 * (rng.standard_normal(x.size) + 1j * rng.standard_normal(x.size)).astype(np.complex64)
    p, norm = repetition_correlation(x, n, cp)
    k = int(np.argmax(np.abs(p)))
    assert k == start and norm[k] > 0.99
    assert cfo_from_phase(float(np.angle(p[k])), n, fs) == pytest.approx(cfo, abs=5)


def test_normalised_xcorr_finds_a_scaled_reference(rng):
    ref = (rng.standard_normal(100) + 1j * rng.standard_normal(100)).astype(np.complex64)
    y = 0.1 * (rng.standard_normal(1000) + 1j * rng.standard_normal(1000))
    y[321:421] += 3j * ref
    q = normalised_xcorr(y, ref)
    assert int(np.argmax(q)) == 321 and q[321] > 0.99 and np.delete(q, 321).max() < 0.5


def test_pi_loop_follows_a_constant_drift():
    """A frame-timing loop as the DTMB receiver runs it: the error is where the frame is
    against where the loop expected it; a 0.3-sample drift per frame is learnt as the rate and
    the error goes to zero."""
    loop, pos, true = PiLoop(0.05, 0.0005), 0.0, 0.0
    for _ in range(3000):
        true += 1.3
        err = true - (pos + 1.0)
        pos += 1.0 + loop.update(err)
    assert loop.rate == pytest.approx(0.3, abs=0.01) and abs(err) < 0.01
