"""phy/ofdm: the shared modem and channel estimation from pilots."""
import numpy as np
import pytest

from sdrcast.phy.ofdm import modem
from sdrcast.phy.ofdm.estimation import equalise


@pytest.mark.parametrize("nfft, cp", [(64, 16), (2048, 144), (3780, 0), (8192, 1024)])
def test_ofdm_round_trip_and_power(nfft, cp, rng):
    grid = rng.standard_normal((5, nfft)) + 1j * rng.standard_normal((5, nfft))
    grid = (grid / np.sqrt(2)).astype(np.complex64)
    x = modem.modulate(grid, cp)
    assert x.dtype == np.complex64 and x.size == 5 * (nfft + cp)
    assert abs(np.mean(np.abs(x) ** 2) - 1) < 0.1
    np.testing.assert_allclose(modem.demodulate(x, nfft, cp), grid, atol=1e-4)
    np.testing.assert_allclose(x[:cp], x[nfft:nfft + cp], atol=1e-6)  # cyclic prefix


def test_ofdm_centred_grid_puts_carrier_at_its_frequency():
    nfft = 256
    grid = np.zeros((1, nfft), np.complex64)
    grid[0, nfft // 2 + 10] = 1
    x = modem.modulate(grid, 0)
    np.testing.assert_allclose(x, np.exp(2j * np.pi * 10 * np.arange(nfft) / nfft) / 16, atol=1e-6)


def test_ofdm_variable_cp_like_lte():
    nfft, cps = 128, [10, 9, 9, 9]
    grid = np.random.default_rng(0).standard_normal((4, nfft)).astype(np.complex64)
    x = modem.modulate(grid, cps)
    assert x.size == sum(cps) + 4 * nfft
    np.testing.assert_allclose(modem.demodulate(x, nfft, cps), grid, atol=1e-4)


def test_dc_first_grids_and_per_symbol_scale(rng):
    """DTMB's C=3780 body: DC in bin 0, no prefix; ``scale`` multiplies each symbol."""
    grid = (rng.standard_normal((3, 3780)) + 1j * rng.standard_normal((3, 3780))).astype(np.complex64)
    t = modem.to_time(grid, centred=False, scale=[1.0, 2.0, 0.5])
    np.testing.assert_allclose(t[1], 2 * np.fft.ifft(grid[1]) * np.sqrt(3780), atol=1e-4)
    back = modem.to_frequency(t / np.array([[1.0], [2.0], [0.5]], np.float32), centred=False)
    np.testing.assert_allclose(back, grid, atol=1e-4)


def _scattered_grid(rng, n_sym, n, dx, dy, delay, nv, cpe=0.0):
    """A grid with scattered pilots (k mod dx dy == dx (l mod dy)) and continual pilots (every
    37th carrier), QPSK data, a two-path
    channel with the echo ``delay`` samples late, a common phase drifting by ``cpe`` rad per
    symbol and noise ``nv``."""
    k, l = np.arange(n), np.arange(n_sym)[:, None]
    pilots = (k % (dx * dy) == dx * (l % dy)) | (k % 37 == 0)
    amp = np.where(pilots, 1.4 * np.where(rng.random((n_sym, n)) < 0.5, 1, -1), 0)
    sign = np.where(rng.random((2, n_sym, n)) < 0.5, 1, -1)
    data = (sign[0] + 1j * sign[1]) / np.sqrt(2)
    x = np.where(amp != 0, amp, data)
    h = (1 + 0.6 * np.exp(-2j * np.pi * k * delay / n + 0.7j)) * np.exp(1j * cpe * l)
    noise = np.sqrt(nv / 2) * (rng.standard_normal((n_sym, n)) + 1j * rng.standard_normal((n_sym, n)))
    return (h * x + noise).astype(np.complex64), amp.astype(np.complex64), x, h


def _loss(eq, x, amp, y, h):
    """dB of error the estimate adds to equalising with the true channel, on the data cells."""
    d = amp == 0
    return 10 * np.log10(np.mean(np.abs(eq[d] - x[d]) ** 2) / np.mean(np.abs((y / h)[d] - x[d]) ** 2))


def test_grid_estimate_follows_an_echo_only_pilots_joined_in_time_resolve(rng):
    """Echo 400 samples late on a 2048-point grid with Dx = 3, Dy = 4: beyond what one
    symbol's pilots resolve (2048 / 12 = 170), inside what they resolve joined in time (682);
    with a residual carrier offset turning every symbol by 0.2 rad."""
    nv = 1e-3
    y, amp, x, h = _scattered_grid(rng, 16, 2048, 3, 4, 400, nv, cpe=0.2)
    eq, nv_per, nv_unit = equalise(y, amp, max_gap=4, spacing=3, delays=(-10, 500, 2048))
    assert _loss(eq, x, amp, y, h) < 2.0  # theory: pilot noise x 510 / 682 of the delays -> 1.4
    assert nv_unit == pytest.approx(nv / np.mean(np.abs(h[0]) ** 2), rel=0.25)  # 1 / SNR
    d = amp == 0
    assert np.corrcoef(nv_per[d], 1 / np.abs(h * np.ones_like(y))[d] ** 2)[0, 1] > 0.99
    one_symbol_each, *_ = equalise(y, amp, max_gap=0)
    assert _loss(one_symbol_each, x, amp, y, h) > 10  # the channel really needs the pilots joined


def test_wiener_interpolation_filters_the_noise_linear_interpolation_keeps(rng):
    y, amp, x, h = _scattered_grid(rng, 16, 2048, 3, 4, 40, 1e-2)
    linear = _loss(equalise(y, amp, max_gap=4)[0], x, amp, y, h)
    wiener = _loss(equalise(y, amp, max_gap=4, spacing=3, delays=(-10, 100, 2048))[0], x, amp, y, h)
    assert wiener < 0.6 and linear > wiener + 0.4


def test_one_symbol_grid_measures_noise_across_carriers(rng):
    n = 2048
    amp = np.zeros((1, n), np.complex64)
    amp[0, ::6] = 1.3 * np.where(rng.random(n) < 0.5, 1, -1)[::6]
    h = (1 + 0.5 * np.exp(-2j * np.pi * np.arange(n) * 7 / n)).astype(np.complex64)
    noise = np.sqrt(5e-4) * (rng.standard_normal(n) + 1j * rng.standard_normal(n))
    y = h * np.where(amp != 0, amp, 0.7) + noise
    _, _, nv_unit = equalise(y.astype(np.complex64), amp, spacing=6, delays=(-4, 64, n))
    assert nv_unit == pytest.approx(1e-3 / np.mean(np.abs(h) ** 2), rel=0.25)


@pytest.mark.parametrize("level", [1.0, 0.178, 1e-3, 1e-5])
def test_the_noise_measure_is_one_over_the_snr_at_any_received_level(rng, level):
    """A capture at -15 dBFS (what the command line writes) or through any radio's gain: the
    third output is the noise against the channel's power, so the same SNR reads the same. It
    was the noise at unit gain, and a -15 dBFS carrier's MER read 15 dB too good."""
    y, amp, x, h = _scattered_grid(rng, 16, 2048, 3, 4, 40, 1e-2)
    _, _, nv_unit = equalise(y * np.float32(level), amp, max_gap=4, spacing=3, delays=(-10, 100, 2048))
    assert nv_unit == pytest.approx(1e-2 / np.mean(np.abs(h[0]) ** 2), rel=0.2)
