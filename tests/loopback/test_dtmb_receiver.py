"""DtmbReceiver with no configuration: finds the header type, timing, CFO, PN phase mode and
superframe position, body mode and transmission mode, then decodes the TS byte-exact."""
import numpy as np
import pytest

from sdrcast.channel.emulator import ChannelConfig, ChannelEmulator
from sdrcast.channel.impairments import SampleGaps
from sdrcast.errors import SyncLost
from sdrcast.mac.ts import sample_stream
from sdrcast.phy.dtmb import DtmbConfig, DtmbTransmitter
from sdrcast.phy.dtmb.receiver import DtmbReceiver
from sdrcast.phy.dtmb.stages import latency_frames

CASES = [  # config, SNR dB
    (DtmbConfig("pn945", True, 3780, "64QAM", 0.6, 1), 22.0),
    (DtmbConfig("pn595", False, 1, "4QAM", 0.8, 1), 10.0),
    (DtmbConfig("pn420", False, 3780, "16QAM", 0.4, 1), 12.0),
    (DtmbConfig("pn420", True, 1, "64QAM", 0.8, 1), 24.0),
    (DtmbConfig("pn945", False, 1, "32QAM", 0.8, 1), 20.0),
]


def _signal(cfg, frames, snr, cfo, lead, skip_frames=0, seed=2):
    ts = sample_stream(frames * cfg.ts_bytes_per_frame // 188, seed=seed)
    iq = DtmbTransmitter(cfg).push(ts)[skip_frames * cfg.frame_symbols:]
    x = np.concatenate([np.zeros(lead, np.complex64), iq])
    y = ChannelEmulator(ChannelConfig(sample_rate=7.56e6, snr_db=snr, cfo_hz=cfo, seed=3))(x)
    return ts, y


@pytest.mark.parametrize("cfg, snr", CASES,
                         ids=[f"{c.header}-{'rot' if c.header_rotating else 'const'}-C{c.carriers}-"
                              f"{c.constellation}-{c.ldpc_rate}" for c, _ in CASES])
def test_automatic_identification_and_decoding(cfg, snr):
    ts, y = _signal(cfg, 176, snr, cfo=2000.0, lead=1234)
    rx = DtmbReceiver()
    out, rep = rx.demodulate(y)
    assert rep["config"] == cfg.__dict__
    s = rep["sync"]
    assert s["start"] == 1234 and s["cfo_hz"] == pytest.approx(2000.0, abs=150)
    assert out.size >= 2 * cfg.ts_bytes_per_frame
    np.testing.assert_array_equal(out, ts[:out.size])
    assert rep["ldpc_failures"] == 0 and rep["bch_failures"] == 0


def test_joins_a_rotating_signal_mid_superframe():
    cfg = DtmbConfig("pn945", True, 3780, "16QAM", 0.6, 1)
    ts, y = _signal(cfg, 180, 16.0, cfo=-3000.0, lead=777, skip_frames=7)
    out, rep = DtmbReceiver().demodulate(y)
    assert rep["sync"]["superframe_index"] == 7 and rep["sync"]["rotating"]
    first = 7 * cfg.ts_bytes_per_frame  # decoding starts with the first frame it synced to
    np.testing.assert_array_equal(out, ts[first:first + out.size])
    assert out.size == 3 * cfg.ts_bytes_per_frame


def test_noise_alone_is_reported_as_no_signal():
    noise = ChannelEmulator(ChannelConfig(sample_rate=7.56e6, snr_db=0.0, seed=1))(
        np.zeros(40_000, np.complex64))
    with pytest.raises(SyncLost, match="no DTMB frame header"):
        DtmbReceiver().demodulate(noise)


@pytest.mark.parametrize("cfg, cfo", [
    (DtmbConfig("pn420", False, 3780, "16QAM", 0.4, 1), 37e3),
    (DtmbConfig("pn945", True, 3780, "64QAM", 0.6, 1), -50e3),
    (DtmbConfig("pn595", False, 1, "4QAM", 0.8, 1), 48e3),
], ids=["pn420+37kHz", "pn945-50kHz", "pn595+48kHz"])
def test_acquires_carrier_offsets_up_to_50_khz(cfg, cfo):
    ts, y = _signal(cfg, 174, 20.0, cfo=cfo, lead=500)
    out, rep = DtmbReceiver().demodulate(y)
    assert rep["sync"]["cfo_hz"] == pytest.approx(cfo, abs=150)
    np.testing.assert_array_equal(out, ts[:out.size])
    assert out.size > 0 and rep["ldpc_failures"] == 0


def test_streaming_block_is_chunk_invariant():
    from sdrcast.flowgraphs.dtmb_rx import DtmbRxBlock
    from sdrcast.runtime.testing import assert_chunk_invariant

    cfg = DtmbConfig("pn420", True, 3780, "16QAM", 0.6, 1)
    ts, y = _signal(cfg, 173, 18.0, cfo=-9000.0, lead=2000)
    out = assert_chunk_invariant(DtmbRxBlock, y, trials=2, max_len=60_000)
    assert out.data.size == 3 * cfg.ts_bytes_per_frame
    np.testing.assert_array_equal(out.data, ts[:out.data.size])


def test_uncorrectable_packets_carry_the_transport_error_indicator():
    cfg = DtmbConfig("pn945", False, 3780, "64QAM", 0.8, interleaver_mode=1)
    frames = latency_frames(cfg) + 1
    ts, y = _signal(cfg, frames, 9.0, cfo=0.0, lead=0)
    out, rep = DtmbReceiver(config=cfg, iterations=5).demodulate(y)
    assert rep["ts_packets_marked"] > 0
    tei = (out.reshape(-1, 188)[:, 1] & 0x80) != 0
    assert tei.sum() == rep["ts_packets_marked"]  # every marked packet, none dropped
    assert out.size == cfg.ts_bytes_per_frame and ts.size > out.size


MOBILE = [  # config, SNR dB: TU-6 at 30 km/h (586 MHz), CFO 20 kHz, SCO 20 ppm
    (DtmbConfig("pn945", False, 3780, "16QAM", 0.6, 1), 20.0),
    (DtmbConfig("pn420", True, 3780, "64QAM", 0.6, 1), 24.0),
    (DtmbConfig("pn595", False, 1, "16QAM", 0.8, 1), 22.0),
    (DtmbConfig("pn945", True, 1, "4QAM", 0.4, 1), 8.0),
]


@pytest.mark.parametrize("cfg, snr", MOBILE, ids=[f"{c.header}-C{c.carriers}-{c.constellation}-"
                                                   f"{c.ldpc_rate}" for c, _ in MOBILE])
def test_mobile_channel_with_carrier_and_clock_offsets(cfg, snr):
    frames = latency_frames(cfg) + 20
    ts = sample_stream(frames * cfg.ts_bytes_per_frame // 188, seed=2)
    x = np.concatenate([np.zeros(1000, np.complex64), DtmbTransmitter(cfg).push(ts)])
    y = ChannelEmulator(ChannelConfig(sample_rate=7.56e6, snr_db=snr, profile="tu6", speed_kmh=30,
                                      carrier_hz=586e6, cfo_hz=20e3, sco_ppm=20, seed=3))(x)
    out, rep = DtmbReceiver().demodulate(y)
    assert rep["config"] == cfg.__dict__
    assert out.size >= 19 * cfg.ts_bytes_per_frame
    np.testing.assert_array_equal(out, ts[:out.size])
    assert rep["ldpc_failures"] == 0 and rep["frames_erased"] == 0
    last = rep["frames_log"][-1]
    assert last["cfo_hz"] == pytest.approx(20e3, abs=20)
    assert 5 < last["sco_ppm"] < 35  # follows the 20 ppm drift (fading moves the taps too)


@pytest.mark.parametrize("cfg, snr", [(DtmbConfig("pn420", False, 3780, "64QAM", 0.6, 1), 24.0),
                                      (DtmbConfig("pn595", False, 1, "16QAM", 0.8, 1), 20.0)],
                         ids=["C3780", "C1"])
@pytest.mark.parametrize("ppm, cfo", [(50, -50e3), (-50, 50e3)], ids=["+50ppm", "-50ppm"])
def test_tracks_50_ppm_clock_and_50_khz_carrier_offsets(cfg, snr, ppm, cfo):
    frames = latency_frames(cfg) + 60
    ts = sample_stream(frames * cfg.ts_bytes_per_frame // 188, seed=2)
    x = np.concatenate([np.zeros(1000, np.complex64), DtmbTransmitter(cfg).push(ts)])
    y = ChannelEmulator(ChannelConfig(sample_rate=7.56e6, snr_db=snr, cfo_hz=cfo, sco_ppm=ppm,
                                      seed=3))(x)
    out, rep = DtmbReceiver().demodulate(y)
    assert out.size >= 59 * cfg.ts_bytes_per_frame
    np.testing.assert_array_equal(out, ts[:out.size])
    assert rep["ldpc_failures"] == 0 and rep["frames_erased"] == 0
    last = rep["frames_log"][-1]
    assert last["cfo_hz"] == pytest.approx(cfo, abs=5)
    assert 40 < np.sign(ppm) * last["sco_ppm"] < 60


@pytest.mark.parametrize("mode", ["zero", "drop"])
def test_resynchronises_after_signal_loss(mode):
    """A 20-frame fade (zeros) or 20 frames' worth of lost samples (a receiver overflow) after
    frame 60: the receiver re-acquires by itself, the frames missed enter the deinterleaver as
    erasures, and decoding carries on with the same packet stream (rotating PN counts the
    frames missed exactly)."""
    cfg = DtmbConfig("pn420", True, 3780, "4QAM", 0.4, 1)
    frames = latency_frames(cfg) + 40
    ts = sample_stream(frames * cfg.ts_bytes_per_frame // 188, seed=4)
    iq = DtmbTransmitter(cfg).push(ts)
    lost = 20 * cfg.frame_symbols
    gap = SampleGaps(period=iq.size, length=lost, first=60 * cfg.frame_symbols + 1234, mode=mode)
    y = ChannelEmulator(ChannelConfig(sample_rate=7.56e6, snr_db=12.0, cfo_hz=3e3, seed=2))(gap(iq))
    rx = DtmbReceiver()
    out = np.concatenate([rx.push(y[i:i + 50_000]) for i in range(0, y.size, 50_000)] + [rx.flush()])
    rep = rx.report()
    assert rep["acquisitions"] == 2 and rep["sync_losses"] == 1
    assert rep["frames_lost_in_resync"] + rep["frames_erased"] >= 20
    n = out.size // cfg.ts_bytes_per_frame
    assert n >= 38
    good = (out.reshape(n, -1) == ts[:out.size].reshape(n, -1)).all(axis=1)
    assert good[:5].all() and good[-5:].all()  # before the damage and after recovery
    assert good.sum() >= n - 25  # a fade's worth of frames may be lost, not more


def test_32qam_joined_on_the_second_frame_of_a_codeword_pair():
    """32QAM frames hold 2.5 codewords: joining one frame late, the codeword boundary is half a
    frame in; the receiver finds it and starts with the next pair."""
    cfg = DtmbConfig("pn945", False, 3780, "32QAM", 0.8, 1)
    ts, y = _signal(cfg, latency_frames(cfg) + 6, 20.0, cfo=0.0, lead=500, skip_frames=1)
    out, rep = DtmbReceiver().demodulate(y)
    assert rep["frames_skipped_for_pairing"] == 1
    first = 2 * cfg.ts_bytes_per_frame  # the half codeword of frame 1 is dropped: pair 2-3 first
    assert out.size >= 2 * cfg.ts_bytes_per_frame
    np.testing.assert_array_equal(out, ts[first:first + out.size])


def test_cli_rx_decodes_a_recording(tmp_path):
    from sdrcast.cli import main
    from sdrcast.sdr_io import write_samples

    cfg = DtmbConfig("pn595", False, 1, "16QAM", 0.8, 1)
    ts, y = _signal(cfg, 172, 18.0, cfo=5000.0, lead=321)
    write_samples(tmp_path / "cap.sigmf-data", y, 7.56e6, 586e6)
    assert main(["rx", "dtmb", "--input", str(tmp_path / "cap.sigmf-data"), "--output",
                 str(tmp_path / "out.ts"), "--quiet"]) == 0
    out = np.fromfile(tmp_path / "out.ts", np.uint8)
    assert out.size == 2 * cfg.ts_bytes_per_frame
    np.testing.assert_array_equal(out, ts[:out.size])
