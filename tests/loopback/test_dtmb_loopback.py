"""DTMB transmitter -> AWGN (+ carrier phase) -> receiver told the configuration: the TS comes
back byte-exact with no LDPC or BCH failure, for every constellation (4QAM-NR included), both
body modes and all three PN headers, at SNRs a few dB above each mode's threshold (Es/N0 over
the 7.56 MHz band)."""
import numpy as np
import pytest

from sdrcast.channel.awgn import Awgn
from sdrcast.mac.ts import sample_stream
from sdrcast.phy.dtmb import DtmbConfig, DtmbReceiver, DtmbTransmitter
from sdrcast.phy.dtmb.decoder import nr_soft_decode
from sdrcast.phy.dtmb.stages import latency_frames
from sdrcast.phy.dtmb.tables import nr_words

CASES = [  # header, rotating, carriers, constellation, rate, SNR dB
    ("pn945", True, 3780, "64QAM", 0.6, 20.0),
    ("pn420", False, 3780, "16QAM", 0.4, 10.0),
    ("pn595", False, 1, "4QAM", 0.8, 9.0),
    ("pn945", False, 1, "32QAM", 0.8, 20.0),
    ("pn420", True, 3780, "4QAM", 0.6, 6.0),
    ("pn595", False, 1, "64QAM", 0.8, 22.0),
    ("pn945", False, 3780, "4QAM-NR", 0.8, 6.0),
    ("pn595", False, 1, "4QAM-NR", 0.8, 6.0),
]


@pytest.mark.parametrize("header, rot, carriers, const, rate, snr", CASES,
                         ids=[f"{c[0]}-{'rot' if c[1] else 'const'}-C{c[2]}-{c[3]}-{c[4]}" for c in CASES])
def test_ts_round_trip_in_awgn(header, rot, carriers, const, rate, snr):
    cfg = DtmbConfig(header, rot, carriers, const, rate, interleaver_mode=1)
    frames = latency_frames(cfg) + 2 * cfg.frames_per_group
    ts = sample_stream(frames * cfg.ts_bytes_per_frame // 188, seed=3)
    iq = DtmbTransmitter(cfg).push(ts)
    y = Awgn(snr, seed=5)(iq) * np.complex64(np.exp(0.9j))
    rx = DtmbReceiver(config=cfg)
    half = y.size // 2 + 777  # streamed in two pieces cut mid-frame
    out = np.concatenate([rx.push(y[:half]), rx.push(y[half:]), rx.flush()])
    rep = rx.report()
    assert out.size == 2 * cfg.frames_per_group * cfg.ts_bytes_per_frame
    np.testing.assert_array_equal(out, ts[:out.size])
    assert rep["ldpc_failures"] == 0 and rep["bch_failures"] == 0
    assert np.mean(rep["mer_db"]) == pytest.approx(snr, abs=1.5)
    assert 0 <= rep["pre_ldpc_ber"] < 0.15 and rep["pre_ldpc_bits"] > 0


def test_pre_ldpc_ber_estimate_matches_uncoded_theory():
    """16QAM at Es/N0 = 11 dB: Gray-mapped uncoded BER ~ 3/4 Q(sqrt(Es/(5 N0))) = 1.1e-2
    (the header power raises the noise a little: measured against 0.6 to 1.6 times that)."""
    from scipy.stats import norm

    cfg = DtmbConfig("pn420", False, 3780, "16QAM", 0.4, interleaver_mode=1)
    ts = sample_stream((latency_frames(cfg) + 3) * cfg.ts_bytes_per_frame // 188, seed=8)
    y = Awgn(11.0, seed=9)(DtmbTransmitter(cfg).push(ts))
    _, rep = DtmbReceiver(config=cfg).demodulate(y)
    theory = 0.75 * norm.sf(np.sqrt(10 ** 1.1 / 5))
    assert 0.6 * theory < rep["pre_ldpc_ber"] < 1.6 * theory


def test_errors_are_counted_below_threshold():
    cfg = DtmbConfig("pn945", False, 3780, "64QAM", 0.8, interleaver_mode=1)
    ts = sample_stream((latency_frames(cfg) + 1) * cfg.ts_bytes_per_frame // 188)
    y = Awgn(8.0, seed=1)(DtmbTransmitter(cfg).push(ts))
    out, rep = DtmbReceiver(config=cfg, iterations=5).demodulate(y)
    assert rep["ldpc_failures"] > 0 and rep["bch_failures"] > 0
    assert out.size == cfg.ts_bytes_per_frame and not np.array_equal(out, ts[:out.size])


def test_nr_soft_decoder_is_maximum_likelihood():
    """Noiseless words decode to their byte; one flipped coded bit (NR distance 6) is fixed."""
    words = nr_words()
    llr = (1 - 2 * words.astype(np.float32)) * 4
    llr[:, 3] *= -1  # one wrong bit in every word
    bits = (nr_soft_decode(llr.reshape(-1)) < 0).reshape(256, 8)
    np.testing.assert_array_equal(np.packbits(bits, axis=1)[:, 0], np.arange(256))
