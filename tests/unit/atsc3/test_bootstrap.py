"""Bootstrap: independent checks of the A/321 construction, and the signalled fields decode back."""
import numpy as np
import pytest

from sdrcast.errors import SyncLost
from sdrcast.phy.atsc3.bootstrap import N_FFT, SAMPLE_RATE, SYMBOL_SAMPLES, BootstrapFields, bootstrap, decode


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
    with pytest.raises(SyncLost, match="does not match"):
        decode((rng.standard_normal(4 * 3072) + 1j * rng.standard_normal(4 * 3072)).astype(np.complex64))


def test_native_rate_bootstrap_is_the_same_waveform():
    """Evaluated at 6.144 Msps it is the bootstrap sample for sample; at the 6/7/8 MHz baseband
    rates it agrees with the polyphase-resampled one to the resampler's accuracy, and its A
    parts hold the same spectrum at the finer sampling."""
    from sdrcast.phy.atsc3.bootstrap import native
    from sdrcast.phy.atsc3.ofdm import bootstrap_at

    f = BootstrapFields(3, 0, 2, 20)
    np.testing.assert_allclose(native(f, 6.144e6), bootstrap(f), rtol=0, atol=1e-5)
    for rate, nmse in ((6.912e6, -40), (8.064e6, -30), (9.216e6, -33)):
        x, ref = native(f, rate), bootstrap_at(rate, f)
        assert x.size == ref.size == round(4 * 3072 * rate / 6.144e6)
        e = (x - ref)[200:-200]
        assert 10 * np.log10(np.sum(np.abs(e) ** 2) / np.sum(np.abs(ref[200:-200]) ** 2)) < nmse
    n = 2304  # 6.912 Msps: symbol 0's A part spans 2304 samples after C (585)
    spec = np.fft.fft(native(f, 6.912e6)[585:585 + n].astype(np.complex128))
    k = np.arange(-749, 750)
    assert np.abs(np.delete(spec, k % n)).max() < 1e-3 * np.abs(spec).max()
    np.testing.assert_allclose(spec[k % n] / 1.125, np.fft.fft(bootstrap(f)[520:520 + N_FFT])[k % N_FFT],
                               atol=1e-3 * np.abs(spec).max())


def test_fields_decode_through_multipath_fading():
    """TU-6 at 120 km/h, 15 dB, twenty channel draws: every bootstrap's fields come back.
    Two echoes nearly as strong as each other made the strongest correlation peak jump from
    symbol to symbol, and the shift steps read from peak positions were invalid signalling
    for about half the draws; whole delay profiles are lined up now."""
    from sdrcast.channel.emulator import ChannelConfig, ChannelEmulator

    fields = BootstrapFields(min_time_to_next=5, system_bandwidth=1, bsr_coefficient=2,
                             preamble_structure=57)
    x = np.concatenate([bootstrap(fields), np.zeros(200, np.complex64)])
    for seed in range(20):
        emu = ChannelEmulator(ChannelConfig(sample_rate=SAMPLE_RATE, snr_db=15.0, profile="tu6",
                                            speed_kmh=120, carrier_hz=593e6, seed=seed))
        y = emu(np.concatenate([x, np.zeros(emu.latency, np.complex64)]))[emu.latency:]
        assert decode(y[:4 * SYMBOL_SAMPLES]) == fields, seed
