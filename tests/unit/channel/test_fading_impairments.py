import numpy as np
import pytest
import scipy.stats

from sdrcast.analysis.estimators import (
    aclr_db,
    cfo_from_repetition,
    clock_offset_ppm,
    snr_data_aided_db,
    snr_m2m4_db,
    tone_frequency,
)
from sdrcast.channel.awgn import Awgn
from sdrcast.channel.fading import TdlChannel, doppler_hz
from sdrcast.channel.impairments import (
    Chain,
    DcOffset,
    FrequencyOffset,
    ImpulsiveNoise,
    IqImbalance,
    PhaseNoise,
    RappPa,
    SampleClockOffset,
    SampleGaps,
)
from sdrcast.channel.profiles import Profile, Tap
from sdrcast.errors import ConfigError
from sdrcast.runtime import FrameBlock
from sdrcast.runtime.testing import assert_chunk_invariant

FS = 7.56e6


def signal(n, seed=0):
    rng = np.random.default_rng(seed)
    return ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)).astype(np.complex64)


STAGES = {
    "tu6_30kmh": lambda: TdlChannel("tu6", FS, speed_kmh=30, carrier_hz=600e6, seed=3),
    "etu_10MHz": lambda: TdlChannel("etu", 10e6, doppler=70, seed=1),
    "ra6_rician": lambda: TdlChannel("ra6", FS, doppler=100, seed=2),
    "sfn_static": lambda: TdlChannel("sfn_long", FS),
    "awgn": lambda: Awgn(10.0, seed=4),
    "cfo": lambda: FrequencyOffset(FS, hz=12_345.6),
    "sco": lambda: SampleClockOffset(40.0),
    "phase_noise_wiener": lambda: PhaseNoise(FS, linewidth_hz=100.0, seed=5),
    "phase_noise_mask": lambda: PhaseNoise(FS, mask=[(1e3, -80), (1e4, -90), (1e5, -110)], seed=5,
                                           taps=257),
    "iq": lambda: IqImbalance(0.5, 3.0),
    "dc": lambda: DcOffset(0.01 - 0.02j),
    "rapp": lambda: RappPa(0.8, 2.0),
    "impulsive": lambda: ImpulsiveNoise(FS, rate_hz=2000, burst_s=20e-6, power=10.0, seed=6),
    "gaps_drop": lambda: SampleGaps(5000, 300, mode="drop"),
    "gaps_zero": lambda: SampleGaps(5000, 300, mode="zero"),
}


@pytest.mark.parametrize("name", list(STAGES))
def test_every_model_is_chunk_invariant(name):
    tol = {"phase_noise_wiener": 1e-5, "phase_noise_mask": 1e-5}.get(name)
    cmp = (lambda a, b: np.testing.assert_allclose(a, b, atol=tol)) if tol else None
    assert_chunk_invariant(lambda: FrameBlock(STAGES[name]()), signal(30_000), trials=2,
                           compare=cmp)


def test_profiles_load_and_match_their_tables():
    assert {"tu6", "ra6", "epa", "eva", "etu", "echo_0db", "sfn_long"} <= set(Profile.names())
    tu6 = Profile.load("tu6")
    np.testing.assert_allclose(tu6.delays_us, [0, 0.2, 0.5, 1.6, 2.3, 5.0])
    np.testing.assert_allclose(10 * np.log10(tu6.powers / tu6.powers.max()), [-3, 0, -2, -6, -8, -10])
    with pytest.raises(ConfigError, match="unknown"):
        Profile.load("nope")
    with pytest.raises(ConfigError, match="k_db"):
        Tap(0.0, 0.0, "rician")


def test_tap_delays_and_mean_powers_match_the_profile():
    powers = [np.mean(np.abs(TdlChannel("etu", 1e5, doppler=300, seed=s).gains(0, 20_000, 20))
                      ** 2, axis=0) for s in range(5)]  # 4 s = 1200 Doppler periods each
    np.testing.assert_allclose(np.mean(powers, axis=0), Profile.load("etu").powers, rtol=0.05)
    # impulse response: taps at round(delay * fs) when integer
    static = TdlChannel(Profile.two_path(10.0, -6.0), 10e6)
    imp = np.zeros(200, np.complex64)
    imp[0] = 1
    h = static(imp)
    peaks = np.nonzero(np.abs(h) > 1e-6)[0]
    assert list(peaks) == [0, 100]
    np.testing.assert_allclose(np.abs(h[peaks]) ** 2, static.profile.powers, rtol=1e-5)


def test_fractional_delay_is_interpolated_with_reported_latency():
    ch = TdlChannel(Profile("frac", (Tap(0.0, 0.0, "static"), Tap(0.25, -3.0, "static"))), 10e6)
    assert ch.latency == 8
    x = np.exp(2j * np.pi * 0.01 * np.arange(4000)).astype(np.complex64)
    y = ch(x)[ch.latency + 100:]
    a0, a1 = np.sqrt(ch.profile.powers)
    ideal = a0 * x[100:y.size + 100] + a1 * x[100:y.size + 100] * np.exp(-2j * np.pi * 0.01 * 2.5)
    np.testing.assert_allclose(y, ideal, atol=2e-3)


def test_rayleigh_envelope_passes_ks_and_doppler_peaks_at_fd():
    env = []
    for seed in range(40):
        ch = TdlChannel(Profile("flat", (Tap(0.0, 0.0),)), 1e4, doppler=50, seed=seed)
        env.append(np.abs(ch.gains(0, 50, 400)[:, 0]))  # 2 s, samples 40 ms apart
    env = np.concatenate(env)
    assert scipy.stats.kstest(env, "rayleigh", args=(0, np.sqrt(0.5))).pvalue > 0.01
    ch = TdlChannel(Profile("flat", (Tap(0.0, 0.0),)), 1000.0, doppler=50, seed=1, sinusoids=64)
    g = ch.gains(0, 2**16)[:, 0]
    spec = np.abs(np.fft.fft(g * np.hanning(g.size))) ** 2
    f = np.abs(np.fft.fftfreq(g.size, 1e-3))
    assert np.sum(spec[f > 51]) < 1e-5 * spec.sum()  # nothing beyond fD
    bands = np.histogram(f, bins=10, range=(0, 51), weights=spec)[0]
    assert np.argmax(bands) == 9  # the U-shaped (Jakes) spectrum peaks at |f| = fD
    share = bands[-2:].sum() / bands.sum()  # |f| > 0.8 fD: 1 - (2/pi) asin(0.8) = 0.41 for Jakes
    assert 0.3 < share < 0.55


def test_doppler_from_speed():
    assert doppler_hz(120, 600e6) == pytest.approx(66.7, abs=0.1)


def test_cfo_and_sco_recovered_within_one_percent():
    n = 200_000
    tone = 200e3
    x = np.exp(2j * np.pi * tone / FS * np.arange(n)).astype(np.complex64)
    cfo = 23_456.0
    y = FrequencyOffset(FS, hz=cfo)(x)
    assert tone_frequency(y, FS) - tone == pytest.approx(cfo, rel=0.01)
    z = SampleClockOffset(50.0)(np.exp(2j * np.pi * 1.5e6 / FS * np.arange(400_000)).astype(np.complex64))
    assert clock_offset_ppm(z[1000:], FS, 1.5e6) == pytest.approx(50.0, rel=0.01)
    rep = np.tile(signal(512, 1), 40)
    assert cfo_from_repetition(FrequencyOffset(FS, hz=3000)(rep), 512, FS) == pytest.approx(3000, rel=0.01)
    assert FrequencyOffset(FS, ppm=2.0, carrier_hz=600e6).hz == pytest.approx(1200.0)


def test_iq_imbalance_image_matches_configured_rejection():
    iq = IqImbalance(1.0, 4.0)
    n = 8192
    x = np.exp(2j * np.pi * 1000 / n * np.arange(n)).astype(np.complex64)
    spec = np.abs(np.fft.fft(iq(x))) ** 2
    measured = 10 * np.log10(spec[1000] / spec[n - 1000])
    assert measured == pytest.approx(iq.image_rejection_db, abs=0.05)


def test_snr_estimators_and_awgn_modes():
    s = np.exp(2j * np.pi * np.random.default_rng(0).random(400_000)).astype(np.complex64)
    y = Awgn(12.0, seed=1)(s)
    assert snr_m2m4_db(y) == pytest.approx(12.0, abs=0.2)
    assert snr_data_aided_db(y, s) == pytest.approx(12.0, abs=0.1)
    floor = Awgn(noise_power=1e-3, seed=2)(np.zeros(400_000, np.complex64))
    assert np.mean(np.abs(floor) ** 2) == pytest.approx(1e-3, rel=0.02)
    # C/N of 10 dB in a 1 MHz band at fs 4 MHz: total noise power 0.4 for a unit signal
    cn = Awgn(cn_db=10.0, bandwidth=1e6, sample_rate=4e6)
    assert cn.noise_power == pytest.approx(0.4)
    with pytest.raises(ConfigError, match="exactly one"):
        Awgn(10.0, noise_power=1.0)


def test_pa_compression_phase_noise_impulses_and_gaps():
    pa = RappPa(saturation=0.5, p=3.0)
    out = pa(np.array([0.01, 10.0], np.complex64))
    assert abs(out[0]) == pytest.approx(0.01, rel=1e-3) and abs(out[1]) == pytest.approx(0.5, rel=1e-3)
    pn = PhaseNoise(FS, linewidth_hz=1000.0, seed=1)
    ph = np.unwrap(np.angle(pn(np.ones(2_000_000, np.complex64))))
    var = np.var(np.diff(ph[::1000]))
    assert var == pytest.approx(2 * np.pi * 1000 * 1000 / FS, rel=0.15)  # Wiener: var grows linearly
    imp = ImpulsiveNoise(FS, rate_hz=5000, burst_s=10e-6, power=1.0, seed=3)
    y = imp(np.zeros(FS.__int__() // 10, np.complex64))
    bursts = imp.starts(0, y.size)
    assert 300 < len(bursts) < 700 and np.count_nonzero(y) == pytest.approx(len(bursts) * 76, rel=0.05)
    gaps = SampleGaps(1000, 100, mode="drop")
    assert gaps(np.ones(10_000, np.complex64)).size == 9000 and gaps.dropped == 1000
    chain = Chain(DcOffset(0.5), RappPa(10.0))
    assert np.allclose(chain(np.zeros(4, np.complex64)), 0.5, atol=1e-3)


def test_aclr_of_a_filtered_signal():
    import scipy.signal

    x = signal(1 << 18)
    h = scipy.signal.firwin(255, 0.2)  # +-1 MHz at 10 Msps
    y = np.convolve(x, h, mode="same").astype(np.complex64)
    res = aclr_db(y, 10e6, 2e6, 2.5e6)
    assert res["lower_db"] > 40 and res["upper_db"] > 40


def test_emulator_config_chain_and_block(tmp_path):
    import json

    from sdrcast.channel.emulator import ChannelConfig, ChannelEmulator
    from sdrcast.runtime import Flowgraph, VectorSink, VectorSource

    cfg = {"sample_rate": FS, "snr_db": 20.0, "profile": "tu6", "speed_kmh": 30, "carrier_hz": 600e6,
           "cfo_hz": 1000.0, "sco_ppm": 5.0, "phase_noise_linewidth_hz": 10.0, "iq_gain_db": 0.2,
           "dc_offset": [0.001, 0.0], "gap_period": 20_000, "gap_length": 100, "seed": 3}
    (tmp_path / "ch.json").write_text(json.dumps(cfg))
    c = ChannelConfig.load(tmp_path / "ch.json")
    x = signal(60_000)
    ref = ChannelEmulator(c)
    one = ref(x)
    assert 200 < ref.gaps.dropped < 300  # the SCO interpolator delays the stream by 16 samples
    assert_chunk_invariant(lambda: ChannelEmulator(c).block(), x, trials=2,
                           compare=lambda a, b: np.testing.assert_allclose(a, b, atol=1e-5))
    sink = VectorSink()
    blk = ChannelEmulator(c).block()
    stats = Flowgraph().connect(VectorSource(x, 7000), blk, sink).run()
    np.testing.assert_allclose(sink.result().data, one, atol=1e-5)
    assert stats["blocks"]["channel"]["counters"]["gap_samples"] == ref.gaps.dropped
    with pytest.raises(ConfigError, match="profile 'xyz'"):
        ChannelConfig(FS, profile="xyz")
    with pytest.raises(ConfigError, match="unknown field"):
        ChannelConfig.load(_write(tmp_path, {"sample_rate": 1e6, "snr": 3}))


def _write(tmp_path, d):
    import json

    p = tmp_path / "bad.json"
    p.write_text(json.dumps(d))
    return p
