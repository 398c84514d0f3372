"""phy/ofdm: the shared modem and channel estimation from pilots."""
import numpy as np
import pytest

from sdrcast.phy.ofdm import modem
from sdrcast.phy.ofdm.estimation import equalise_from_pilots


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


def test_pilot_equaliser_recovers_a_two_path_channel_and_the_noise(rng):
    n, dx = 2048, 6
    amp = np.zeros(n, np.complex64)
    amp[::dx] = 1.3 * np.where(rng.random(n) < 0.5, 1, -1)[::dx]
    data = (np.where(rng.random(n) < 0.5, 1, -1) + 1j * np.where(rng.random(n) < 0.5, 1, -1)) / np.sqrt(2)
    x = np.where(amp != 0, amp, data).astype(np.complex64)
    k = np.arange(n)
    h = (1 + 0.5 * np.exp(-2j * np.pi * k * 7 / n)).astype(np.complex64)  # echo 7 samples late
    nv = 1e-3
    y = h * x + np.sqrt(nv / 2) * (rng.standard_normal(n) + 1j * rng.standard_normal(n))
    eq, nv_per, nv_unit = equalise_from_pilots(y.astype(np.complex64), amp)
    d = amp == 0
    mer = 10 * np.log10(np.mean(np.abs(x[d]) ** 2) / np.mean(np.abs(eq[d] - x[d]) ** 2))
    assert mer > 25
    assert nv_unit == pytest.approx(nv, rel=0.25)
    assert np.corrcoef(nv_per[d], 1 / np.abs(h[d]) ** 2)[0, 1] > 0.99  # deep in a fade: noisier
