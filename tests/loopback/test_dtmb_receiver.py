"""DtmbReceiver with no configuration: finds the header type, timing, CFO, PN phase mode and
superframe position, body mode and transmission mode, then decodes the TS byte-exact."""
import numpy as np
import pytest

from sdrcast.channel.emulator import ChannelConfig, ChannelEmulator
from sdrcast.errors import SyncLost
from sdrcast.mac.ts import sample_stream
from sdrcast.phy.dtmb import DtmbConfig, DtmbTransmitter
from sdrcast.phy.dtmb.receiver import DtmbReceiver

CASES = [  # config, SNR dB
    (DtmbConfig("pn945", True, 3780, "64QAM", 0.6, 1), 22.0),
    (DtmbConfig("pn595", False, 1, "4QAM", 0.8, 1), 10.0),
    (DtmbConfig("pn420", False, 3780, "16QAM", 0.4, 1), 12.0),
    (DtmbConfig("pn420", True, 1, "64QAM", 0.8, 1), 24.0),
    (DtmbConfig("pn945", False, 1, "32QAM", 0.8, 1), 20.0),
]


def _signal(cfg, frames, snr, cfo, lead, skip_frames=0, seed=2):
    ts = sample_stream(frames * cfg.ts_bytes_per_frame // 188, seed=seed)
    iq = DtmbTransmitter(cfg).modulate(ts)[skip_frames * cfg.frame_symbols:]
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
    from sdrcast.phy.dtmb.demodulator import DtmbDemodulator

    cfg = DtmbConfig("pn945", False, 3780, "64QAM", 0.8, interleaver_mode=1)
    rx = DtmbDemodulator(cfg, iterations=5)
    ts = sample_stream((rx.latency_frames + 1) * cfg.ts_bytes_per_frame // 188)
    _, y = _signal(cfg, rx.latency_frames + 1, 9.0, cfo=0.0, lead=0)
    out, rep = rx.demodulate(y)
    assert rep.ts_packets_marked > 0
    tei = (out.reshape(-1, 188)[:, 1] & 0x80) != 0
    assert tei.sum() == rep.ts_packets_marked  # every marked packet, none dropped
    assert out.size == cfg.ts_bytes_per_frame and ts.size > out.size


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
