"""`sdrcast identify`: each registered standard's detector over the first second of a
recording (issue 10's registry; issue 17 item 7), at any level, and noise gives exit 1."""
import json

import numpy as np
import pytest

from sdrcast.channel.awgn import Awgn
from sdrcast.cli import main
from sdrcast.mac.ts import sample_stream
from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter
from sdrcast.phy.atsc3.receiver import Atsc3Receiver
from sdrcast.phy.dtmb import PRESETS, DtmbTransmitter
from sdrcast.sdr_io import write_samples


def test_identifies_dtmb_and_atsc3_with_their_configuration(tmp_path, capsys):
    dtmb = PRESETS["mode3"]
    iq = DtmbTransmitter(dtmb).push(sample_stream(10 * dtmb.ts_bytes_per_frame // 188))
    write_samples(tmp_path / "d.cf32", np.concatenate([np.zeros(777, np.complex64), iq]) * 0.1,
                  7.56e6)
    cfg = Atsc3Config.preset("mobile_fixed_tdm")
    a3 = Atsc3Transmitter(cfg).modulate({0: sample_stream(300), 1: sample_stream(3000)})
    write_samples(tmp_path / "a.sigmf-data", Awgn(25.0, seed=1)(
        np.concatenate([np.zeros(4321, np.complex64), a3])) * 0.05, cfg.sample_rate)
    assert main(["identify", str(tmp_path / "d.cf32"), "--rate", "7.56e6", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["standard"] == "dtmb" and d["start"] == 777
    assert (d["header"], d["carriers"], d["constellation"], d["ldpc_rate"],
            d["interleaver_mode"]) == ("pn945", 3780, "16QAM", 0.6, 2)
    assert main(["identify", str(tmp_path / "a.sigmf-data"), "--json"]) == 0
    a = json.loads(capsys.readouterr().out)
    assert a["standard"] == "atsc3" and a["start"] == 4321
    sub = a["configuration"]["subframes"][0]
    assert (sub["fft"], sub["pilots"]) == (16384, "SP6_2") and len(sub["plps"]) == 2


@pytest.mark.parametrize("bandwidth, cp", [(5.0, "extended"), (1.4, "normal")])
def test_identifies_a_fembms_cell(tmp_path, capsys, bandwidth, cp):
    """PSS/SSS cell search: PCI, cyclic prefix and where the cell-acquisition subframe starts
    (to the 1.92 Msps search grid), through noise and a 1 kHz offset."""
    from sdrcast.channel.emulator import ChannelConfig, ChannelEmulator
    from sdrcast.phy.fembms.config import FembmsConfig
    from sdrcast.phy.fembms.transmitter import FembmsTransmitter

    tx = FembmsTransmitter(FembmsConfig(pci=331, bandwidth_mhz=bandwidth, cas_cp=cp))
    y = ChannelEmulator(ChannelConfig(sample_rate=tx.sample_rate, snr_db=6.0, cfo_hz=1000.0, seed=4))(
        np.concatenate([np.zeros(5000, np.complex64), tx.subframes(50)]))
    write_samples(tmp_path / "f.sigmf-data", y * 0.1, tx.sample_rate)
    assert main(["identify", str(tmp_path / "f.sigmf-data"), "--json"]) == 0
    f = json.loads(capsys.readouterr().out)
    assert (f["standard"], f["pci"], f["cp"]) == ("fembms", 331, cp)
    assert abs(f["start"] - 5000) <= tx.sample_rate / 1.92e6 and abs(f["cfo_hz"] - 1000) < 500


def test_noise_is_no_known_standard(tmp_path, capsys):
    noise = (np.random.default_rng(0).standard_normal(300_000) * 0.1).astype(np.complex64)
    write_samples(tmp_path / "n.cf32", noise, 6.912e6)
    assert main(["identify", str(tmp_path / "n.cf32"), "--rate", "6.912e6"]) == 1
    assert "no known standard" in capsys.readouterr().err


@pytest.mark.parametrize("level", [0.03, 3.0])
def test_atsc3_capture_decodes_at_any_level(level):
    """The bootstrap check used to compare the correlation with the unit-power reference's
    energy, so a capture well below unit power (any real radio, or the -15 dBFS output of
    `sdrcast tx atsc3`) was refused."""
    cfg = Atsc3Config.preset("vector_s01")
    ts = sample_stream(3000, seed=2)
    iq = Atsc3Transmitter(cfg).modulate(ts)
    y = Awgn(25.0, seed=3)(np.concatenate([np.zeros(999, np.complex64), iq])) * np.float32(level)
    out, rep = Atsc3Receiver(cfg.sample_rate).demodulate(y)
    assert rep["start"] == 999
    np.testing.assert_array_equal(out[0], ts[:out[0].size])
    assert out[0].size > 0


def test_identify_a_live_zeromq_stream_stops_after_its_seconds(tmp_path, capsys):
    """A network source never ends by itself: identify streams its first seconds (it read the
    whole source first, and so hung on live input)."""
    import socket
    import subprocess
    import sys

    cfg = PRESETS["mode3"]
    iq = DtmbTransmitter(cfg).push(sample_stream(10 * cfg.ts_bytes_per_frame // 188))
    write_samples(tmp_path / "d.cf32", iq * 0.1, 7.56e6)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tx = subprocess.Popen([sys.executable, "-m", "sdrcast", "convert", str(tmp_path / "d.cf32"),
                           f"zmq+push://127.0.0.1:{port}", "--repeat", "--quiet"],
                          stderr=subprocess.DEVNULL)
    try:
        assert main(["identify", f"zmq+pull://127.0.0.1:{port}", "--rate", "7.56e6",
                     "--seconds", "0.1", "--timeout", "20"]) == 0
    finally:
        tx.terminate()
        tx.wait(timeout=30)
    assert capsys.readouterr().out.startswith("dtmb: header pn945")
