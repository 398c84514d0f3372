import numpy as np
import pytest
import scipy.signal
import scipy.special

from sdrcast.errors import ConfigError
from sdrcast.phy.kernels.filters import srrc_taps
from sdrcast.phy.mapping import Constellation, square_qam
from sdrcast.phy.resample import Resampler
from sdrcast.runtime import FrameBlock
from sdrcast.runtime.testing import assert_chunk_invariant


@pytest.mark.parametrize("order", [4, 16, 64, 256, 1024, 4096])
def test_square_qam_unit_energy_and_gray_neighbours(order):
    pts = square_qam(order)
    assert abs(np.mean(np.abs(pts) ** 2) - 1) < 1e-6
    d = np.abs(pts[:, None] - pts[None, :])
    dmin = d[d > 1e-6].min()
    labels = np.arange(order)
    for i in range(order):
        for j in np.nonzero(np.abs(d[i] - dmin) < 1e-4)[0]:
            assert bin(labels[i] ^ labels[j]).count("1") == 1


def test_map_then_hard_demap_is_identity(rng):
    c = Constellation.qam(64)
    bits = rng.integers(0, 2, 6 * 1000, dtype=np.uint8)
    llr = c.demap(c.map(bits), 0.01)
    np.testing.assert_array_equal((llr < 0).astype(np.uint8), bits)
    np.testing.assert_array_equal((c.demap(c.map(bits), 0.01, "logmap") < 0).astype(np.uint8), bits)


def test_llr_sign_convention_positive_means_zero():
    c = Constellation.qam(4)
    llr = c.demap(c.points[[0]], 0.1)
    assert np.all(llr > 0)  # label 0 -> both bits 0


def test_logmap_equals_exact_bpsk_llr_for_qpsk():
    c = Constellation.qam(4)
    y = np.array([0.3 + 0.1j, -0.2 - 0.5j], np.complex64)
    n0 = 0.5
    # for Gray QPSK each bit sees BPSK at amplitude 1/sqrt(2): LLR = 4 a y / N0 with sign per label
    a = 1 / np.sqrt(2)
    sign_i = 1 if c.points[0].real < 0 else -1
    exact_first = -sign_i * 4 * a * y.real / n0
    got = c.demap(y, n0, "logmap").reshape(-1, 2)[:, 0]
    np.testing.assert_allclose(got, -exact_first if c.points[0].real > 0 else exact_first, rtol=1e-4)


def test_uncoded_qpsk_ber_matches_theory(rng):
    c = Constellation.qam(4)
    n = 400_000
    bits = rng.integers(0, 2, n, dtype=np.uint8)
    ebn0_db = 6.0
    n0 = 1 / (2 * 10 ** (ebn0_db / 10))  # Es = 1, 2 bits per symbol
    y = c.map(bits) + (rng.standard_normal(n // 2) + 1j * rng.standard_normal(n // 2)) * np.sqrt(n0 / 2)
    ber = np.mean((c.demap(y, n0) < 0) != bits)
    theory = 0.5 * scipy.special.erfc(np.sqrt(10 ** (ebn0_db / 10)))
    assert abs(ber / theory - 1) < 0.05


def test_constellation_input_errors_name_the_problem():
    with pytest.raises(ConfigError, match="multiple of 4"):
        Constellation.qam(16).map(np.zeros(6, np.uint8))
    with pytest.raises(ConfigError, match="power of two"):
        Constellation(np.ones(3))


def test_srrc_cascade_is_nyquist():
    h = srrc_taps(0.05, 4, 64)
    rc = np.convolve(h, h)
    mid = rc.size // 2
    assert abs(rc[mid] - 1) < 1e-3
    assert np.max(np.abs(rc[mid + 4::4][:20])) < 0.02


@pytest.mark.parametrize("up, down", [(4, 3), (2, 5), (25, 24), (1, 1)])
def test_resampler_matches_scipy_and_is_chunk_invariant(up, down, rng):
    x = (rng.standard_normal(4000) + 1j * rng.standard_normal(4000)).astype(np.complex64)
    r = Resampler(up, down)
    y = r(x)
    ref = scipy.signal.upfirdn(r.taps.astype(np.float64), x, up, down)[:y.size]
    np.testing.assert_allclose(y, ref, atol=1e-4)
    assert_chunk_invariant(lambda: FrameBlock(Resampler(up, down)), x, trials=3,
                           compare=lambda a, b: np.testing.assert_allclose(a, b, atol=1e-5))


def test_resampler_keeps_a_tone_in_band():
    fs_in, fs_out = 6.144e6, 6.912e6
    r = Resampler.from_rates(fs_in, fs_out)
    assert (r.up, r.down) == (9, 8)
    n = np.arange(20000)
    y = r(np.exp(2j * np.pi * 0.5e6 / fs_in * n).astype(np.complex64))[500:-500]
    spec = np.abs(np.fft.fft(y * np.hanning(y.size)))
    peak = np.argmax(spec)
    assert abs(np.fft.fftfreq(y.size, 1 / fs_out)[peak] - 0.5e6) < 2 * fs_out / y.size
    assert abs(np.mean(np.abs(y) ** 2) - 1) < 0.02


@pytest.mark.parametrize("name, rate", [("QPSK", "6/15"), ("16QAM", "8/15"), ("64QAM", "9/15"),
                                        ("256QAM", "10/15"), ("1024QAM", "11/15"), ("4096QAM", "13/15")])
def test_structured_maxlog_demapping_equals_the_exhaustive_search(name, rate):
    """Separable (1-D NUC) and quadrant-symmetric (2-D NUC) constellations take the short
    paths; both give the exhaustive max-log LLRs, on one thread and on two."""
    from sdrcast.phy.atsc3.tables import constellation_points
    from sdrcast.phy.kernels import qam as kq
    from sdrcast.phy.mapping import Constellation

    c = Constellation(constellation_points(name, rate))
    assert c._structure is not None
    rng = np.random.default_rng(1)
    y = (c.points[rng.integers(0, c.points.size, 25000)]
         + 0.2 * (rng.standard_normal(25000) + 1j * rng.standard_normal(25000))).astype(np.complex64)
    nv = rng.uniform(0.01, 0.1, y.size)
    ref = kq.demap_maxlog(y, c.points, c.bits_per_symbol, nv)
    np.testing.assert_allclose(c.demap(y, nv), ref, rtol=1e-4, atol=1e-3)


def test_unstructured_constellation_uses_the_exhaustive_search():
    from sdrcast.phy.mapping import Constellation

    rng = np.random.default_rng(2)
    c = Constellation((rng.standard_normal(16) + 1j * rng.standard_normal(16)).astype(np.complex64))
    assert c._structure is None
    y = c.points[[3, 7]]
    assert (c.demap(y, 0.01).reshape(2, 4) < 0).astype(int).tolist() == [[0, 0, 1, 1], [0, 1, 1, 1]]
