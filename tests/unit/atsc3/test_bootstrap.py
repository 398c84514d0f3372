"""Bootstrap: independent checks of the A/321 construction, and the signalled fields decode back."""
import numpy as np
import pytest

from sdrcast.errors import ConfigError
from sdrcast.phy.atsc3.bootstrap import N_FFT, BootstrapFields, bootstrap, decode


def test_a_part_spectrum_is_zadoff_chu_times_pn():
    """Symbol 0's A part: 1498 carriers of equal magnitude around a null DC, nothing outside,
    and the ratio to the root-137 Zadoff-Chu sequence (written here from A/321) is +-1."""
    x = bootstrap(BootstrapFields())
    spec = np.fft.fft(x[520:520 + N_FFT]).astype(np.complex128)
    k = np.arange(-749, 750)
    active = spec[k % N_FFT]
    assert abs(active[749]) < 1e-3 * np.abs(active).max()  # DC
    mags = np.abs(np.delete(active, 749))
    assert mags.max() / mags.min() < 1 + 1e-4
    outside = np.delete(spec, k % N_FFT)
    assert np.abs(outside).max() < 1e-3 * mags.max()
    n = np.arange(1499)
    zc = np.exp(-1j * np.pi * 137 * n * (n + 1) / 1499)
    ratio = np.delete(active / zc, 749)
    ratio /= np.abs(ratio)
    assert np.allclose(np.abs(ratio.real), 1, atol=1e-4)


@pytest.mark.parametrize("fields", [BootstrapFields(), BootstrapFields(1, 0, 2, 20),
                                    BootstrapFields(31, 2, 8, 159, 3)])
def test_fields_decode_back(fields):
    assert decode(bootstrap(fields)) == fields


def test_noise_is_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigError, match="does not match"):
        decode((rng.standard_normal(4 * 3072) + 1j * rng.standard_normal(4 * 3072)).astype(np.complex64))
