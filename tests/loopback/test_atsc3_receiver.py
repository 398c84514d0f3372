"""The ATSC 3.0 field receiver (issue 17): streamed in small pieces, through a sample clock and
carrier offset, across a signal gap and a configuration change, joined at a random sample,
from a radio's rate — each byte-exact after (re)acquisition, with its counters checked."""

import numpy as np
import pytest

from sdrcast.channel.emulator import ChannelConfig, ChannelEmulator
from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter
from sdrcast.phy.atsc3.receiver import CONFIG_SECONDS, Atsc3Receiver
from tests.loopback.test_atsc3_loopback import _payload

PIECE = 69120  # 10 ms at 6.912 Msps


def _signal(preset, frames, seed=0):
    cfg = Atsc3Config.preset(preset)
    tx = Atsc3Transmitter(cfg)
    payload = _payload(tx, frames, seed)
    return cfg, tx, payload, tx.modulate(payload)


def _stream(rx, y, piece=PIECE):
    out: dict[int, list] = {}
    for k in range(0, y.size, piece):
        for i, v in rx.push(y[k:k + piece]).items():
            out.setdefault(i, []).append(v)
    for i, v in rx.flush().items():
        out.setdefault(i, []).append(v)
    return {i: np.concatenate(v) for i, v in out.items()}, rx.report()


def _positions(got, ts):
    """Where each TS packet out sits in the input (-1: not one of the input's)."""
    index = {p.tobytes(): k for k, p in enumerate(ts.reshape(-1, 188))}
    return [index.get(p.tobytes(), -1) for p in got.reshape(-1, 188)]


def _marked(ts):
    """Per packet: the transport_error_indicator is set."""
    return (ts.reshape(-1, 188)[:, 1] & 0x80) > 0


def _noise(n, power, seed):
    rng = np.random.default_rng(seed)
    return (np.sqrt(power / 2) * (rng.standard_normal(n) + 1j * rng.standard_normal(n))).astype(np.complex64)


@pytest.mark.parametrize("ppm, cfo", [(50.0, 50e3), (-50.0, -50e3)])
def test_sample_clock_and_carrier_offset_streamed_in_pieces(ppm, cfo):
    """±50 ppm and ±50 kHz, pushed 10 ms at a time: every frame is found from the one before
    (the clock offset measured from their distance and interpolated out), both PLPs byte-exact,
    memory bounded."""
    cfg, tx, payload, iq = _signal("mobile_fixed_tdm", 5)
    x = np.concatenate([np.zeros(7777, np.complex64), iq, np.zeros(20000, np.complex64)])
    y = ChannelEmulator(ChannelConfig(sample_rate=cfg.sample_rate, snr_db=25.0, cfo_hz=cfo,
                                      sco_ppm=ppm, seed=3))(x)
    rx = Atsc3Receiver(cfg.sample_rate)
    out, rep = _stream(rx, y)
    assert rep["frames"] == 5 and rep["acquisitions"] == 1 and rep["frames_lost"] == 0
    assert abs(rep["sco_ppm"] - ppm) < 1 and abs(rep["cfo_hz"] - cfo) < 20
    assert rep["l1_errors"] == rep["l1_inconsistent"] == 0 and rep["fec"]["ldpc_failures"] == 0
    for i, ts in payload.items():
        np.testing.assert_array_equal(out[i], ts)
    # memory: about twice the most held, the configuration read or a frame and a bootstrap
    assert rx.buf.allocated < 2.2 * (CONFIG_SECONDS * cfg.sample_rate + tx.frame_samples_count)


def test_without_clock_offset_no_interpolation_and_same_output_whole_or_in_pieces():
    cfg, tx, payload, iq = _signal("vector_s01", 3)
    y = np.concatenate([np.zeros(4321, np.complex64), iq])
    whole, rep = Atsc3Receiver(cfg.sample_rate).demodulate(y)
    pieces, rep2 = _stream(Atsc3Receiver(cfg.sample_rate), y, 12345)
    np.testing.assert_array_equal(whole[0], payload[0])
    np.testing.assert_array_equal(pieces[0], payload[0])
    assert rep["start"] == rep2["start"] == 4321 and rep["sync_losses"] == 0
    assert abs(rep["sco_ppm"]) < 0.2


def test_signal_gap_is_lost_counted_and_recovered():
    """Half a second of the signal replaced by noise (a tunnel): the receiver loses it where a
    bootstrap is missing, re-acquires after it, counts the frames lost from the distance, and
    goes on byte-exact: every TS packet out is the input's, in order, and the last ones come;
    those lost are there as marked stand-ins, as many as were lost."""
    cfg, tx, payload, iq = _signal("mobile_fixed_tdm", 12)
    f = tx.frame_samples_count
    gap = slice(2 * f + 1000, 2 * f + 1000 + round(0.5 * cfg.sample_rate))
    y = iq.copy()
    y[gap] = 0
    y = y + _noise(y.size, 10 ** (-2.5), 1)  # 25 dB SNR; the gap is noise only
    out, rep = _stream(Atsc3Receiver(cfg.sample_rate), y)
    lost = sum(gap.start <= k * f < gap.stop for k in range(12))  # bootstraps in the gap
    assert rep["acquisitions"] == 2 and rep["sync_losses"] >= 1
    assert rep["frames_lost"] == lost and rep["frames"] == 12 - lost
    states = [s for _, s in rep["transitions"]]
    assert states == ["tracking", "lost", "tracking", "lost"][:len(states)]
    for i, ts in payload.items():
        marked = _marked(out[i])
        got = _positions(out[i][~np.repeat(marked, 188)], ts)
        assert -1 not in got and got == sorted(got)
        assert got[-1] == ts.size // 188 - 1  # continued output to the end
        # the packets lost come out as stand-ins marked with transport_error_indicator:
        # the stream keeps its packet count
        assert marked.size == ts.size // 188 and marked.sum() == rep["plps"][i]["ts_packets_marked"] > 0


def test_configuration_change_mid_stream():
    """One transmitter's frames, then another configuration's (new bootstrap and L1): the
    receiver reads the new configuration from the signal, without restart, and delivers both."""
    cfg_a, _, pay_a, iq_a = _signal("mobile_fixed_tdm", 3)
    cfg_b, _, pay_b, iq_b = _signal("vector_s01", 3, seed=7)
    y = np.concatenate([iq_a, iq_b])
    y = y + _noise(y.size, 10 ** (-2.5), 2)
    out, rep = _stream(Atsc3Receiver(cfg_a.sample_rate), y)
    assert rep["configuration_changes"] == 1 and rep["frames"] == 6
    assert rep["configuration"]["subframes"][0]["fft_size"] == cfg_b.subframes[0].fft_size
    a = pay_a[0].size
    np.testing.assert_array_equal(out[0][:a], pay_a[0])
    np.testing.assert_array_equal(out[0][a:], pay_b[0][:out[0].size - a])
    assert out[0].size - a > 0.9 * pay_b[0].size


def test_joining_a_cti_signal_at_a_random_sample():
    """Started at a random sample inside a CTI signal: the next bootstrap is acquired, the CTI
    joined from its L1, and from the first complete interleaver period on the output is
    contiguous and byte-exact."""
    cfg, tx, payload, iq = _signal("vector_s05", 10)
    start = int(np.random.default_rng(5).integers(tx.frame_samples_count, 2 * tx.frame_samples_count))
    y = iq[start:] + _noise(iq.size - start, 10 ** (-2.2), 3)
    out, rep = _stream(Atsc3Receiver(cfg.sample_rate), y)
    assert rep["start"] == 2 * tx.frame_samples_count - start
    got = _positions(out[0], payload[0])
    assert len(got) > 1000 and got == list(range(got[0], got[0] + len(got)))
    assert rep["fec"]["ldpc_failures"] == 0 and rep["l1_inconsistent"] == 0


def test_any_radio_rate_is_resampled_to_the_signal():
    """A capture at 8 Msps (a rate a radio offers, not an ATSC 3.0 one): resampled to the
    6.912 Msps the bootstrap signals, decoded byte-exact."""
    from sdrcast.phy.resample import Resampler

    cfg, tx, payload, iq = _signal("vector_s01", 3)
    y = Resampler.from_rates(cfg.sample_rate, 8e6)(np.concatenate([np.zeros(5000, np.complex64), iq,
                                                                    np.zeros(5000, np.complex64)]))
    out, rep = _stream(Atsc3Receiver(8e6), y + _noise(y.size, 10 ** (-2.5), 4), 80000)
    assert rep["sample_rate"] == cfg.sample_rate and rep["frames"] == 3
    np.testing.assert_array_equal(out[0], payload[0])


def test_garbage_and_noise_find_nothing():
    rng = np.random.default_rng(0)
    junk = rng.integers(-2 ** 31, 2 ** 31, 800_000, dtype=np.int64).astype(np.uint32).view(np.float32)
    y = np.concatenate([_noise(1_000_000, 1.0, 9), junk.view(np.complex64)])
    rx = Atsc3Receiver(6.912e6)
    out, rep = _stream(rx, y)
    assert not out and not rx.synced_once and rep["sync_state"] == "searching"
    assert rep["samples_not_finite"] > 0 and rx.buf.allocated < 4 * (1 << 18) * 2


def test_a_change_in_l1_alone_is_seen():
    """Only L1-Detail changes (the second PLP's code rate), the bootstrap stays: frames whose
    L1 matches the last one re-encoded are not decoded again (``l1_reused``), and the changed
    one is not mistaken for it."""
    import dataclasses

    cfg_a = Atsc3Config.preset("mobile_fixed_tdm")
    sub = cfg_a.subframes[0]
    cfg_b = dataclasses.replace(cfg_a, subframes=(dataclasses.replace(
        sub, plps=(sub.plps[0], dataclasses.replace(sub.plps[1], code_rate="9/15"))),))
    iq = []
    for cfg in (cfg_a, cfg_b):
        tx = Atsc3Transmitter(cfg)
        iq.append(tx.modulate(_payload(tx, 4, seed=3)))
    y = np.concatenate(iq)
    out, rep = _stream(Atsc3Receiver(cfg_a.sample_rate), y + _noise(y.size, 10 ** (-2.5), 5))
    assert rep["configuration_changes"] == 1 and rep["frames"] == 8
    assert rep["configuration"]["subframes"][0]["plps"][1]["code_rate"] == "9/15"
    assert rep["l1_reused"] >= 2 and rep["fec"]["ldpc_failures"] == 0


@pytest.mark.parametrize("plps", [[0], [1]])
def test_one_ldm_layer_alone(plps):
    """Decoding only the core layer still takes the enhanced layer as noise; the enhanced
    layer alone still decodes (and cancels) the core under it."""
    cfg, tx, payload, iq = _signal("mobile_fixed_ldm", 3)
    out, rep = Atsc3Receiver(cfg.sample_rate, plps=plps).demodulate(iq + _noise(iq.size, 10 ** (-2.5), 6))
    assert sorted(rep["plps"]) == ([0, 1] if plps == [1] else [0])
    assert rep["plps"][plps[0]]["ldpc_failures"] == 0
    got = out[plps[0]]
    np.testing.assert_array_equal(got, payload[plps[0]][:got.size])
    assert got.size > 0.9 * payload[plps[0]].size


def test_mobile_plp_at_120_kmh():
    """TU-6 at 120 km/h (593 MHz: 66 Hz Doppler, carrier interference on the 16K symbols caps
    the MER near 13 dB), 10 kHz offset, 20 dB: the 16-NUC 6/15 mobile PLP comes back
    byte-exact. The int8 LDPC decoder fails blocks whose wrong channel LLRs are confident
    (its messages cannot outvote them); those are decoded again in float32 (counted)."""
    cfg, tx, payload, iq = _signal("mobile_fixed_tdm", 4)
    x = np.concatenate([np.zeros(5000, np.complex64), iq, np.zeros(5000, np.complex64)])
    y = ChannelEmulator(ChannelConfig(sample_rate=cfg.sample_rate, snr_db=20.0, profile="tu6",
                                      speed_kmh=120, carrier_hz=593e6, cfo_hz=10e3, seed=2))(x)
    out, rep = _stream(Atsc3Receiver(cfg.sample_rate, plps=[0]), y)
    np.testing.assert_array_equal(out[0], payload[0])
    p = rep["plps"][0]
    assert p["ldpc_failures"] == 0 and p["ldpc_retried"] > 0 and rep["frames"] == 4
    assert 8 < p["mer_db"] < 16


def test_a_capture_cut_inside_a_frame():
    """The input ends half way through the third frame: two frames decoded byte-exact, the
    cut one counted (``frames_cut``), nothing from it delivered."""
    cfg, tx, payload, iq = _signal("vector_s01", 3)
    y = iq[:int(2.5 * tx.frame_samples_count)]
    out, rep = _stream(Atsc3Receiver(cfg.sample_rate), y + _noise(y.size, 10 ** (-2.5), 8))
    assert rep["frames"] == 2 and rep["frames_cut"] == 1
    np.testing.assert_array_equal(out[0], payload[0][:out[0].size])
    assert 0 < out[0].size < payload[0].size
