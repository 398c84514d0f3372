"""The FeMBMS receiver: both shared carriers received with no configuration (the 320 ms one to
exactly its IP packets, the 40 ms one to its MCCH bytes), and loopback from sdrcast's
transmitter with an unknown start and carrier offset at each numerology; noise is no cell."""
import json
import os

import numpy as np
import pytest

from sdrcast.channel.emulator import ChannelConfig, ChannelEmulator
from sdrcast.errors import SyncLost
from sdrcast.mac.ip import udp_datagram
from sdrcast.phy.fembms.config import FembmsConfig, PmchConfig, SessionConfig
from sdrcast.phy.fembms.receiver import FembmsReceiver
from sdrcast.phy.fembms.transmitter import FembmsTransmitter
from tests.conftest import VECTORS


def test_reference_carrier_to_exactly_its_ip_packets():
    s = np.load(VECTORS / "fembms" / "fembms_stream_mtch_ip.npz")
    iq = s["iq_32frames_x_10sf_x_7680"].reshape(-1)
    packets = [s["ip_packets_concat"][o:o + n].tobytes()
               for o, n in zip(s["ip_packet_offsets"], s["ip_packet_lengths"], strict=True)]
    got, rep = FembmsReceiver(7.68e6).demodulate(np.concatenate([iq, iq]))  # looped, as the modem ran it
    assert got == packets * 2
    assert (rep["pci"], rep["mbsfn_area"], rep["numerology"]) == (42, 3, "1.25")
    assert rep["pmchs"] == [{"sf_alloc_end": 311, "data_mcs": 9, "mcs_table": "64QAM", "lcids": [2]}]
    assert rep["fec"]["mch"]["errors"] == 0 and rep["payload"]["lost_sn"] == 0


def test_reference_40ms_carrier_to_its_mcch():
    s = np.load(VECTORS / "fembms" / "fembms_stream_40ms.npz")
    _, rep = FembmsReceiver(7.68e6).demodulate(np.tile(s["iq_4frames_x_10sf_x_7680"].reshape(-1), 2))
    assert rep["mcch"] == s["mcch_with_rlc_um_header"].tobytes().hex()
    assert rep["sib1_mbms"].startswith(s["sib1_mbms_bcch_dl_sch_msg_mbms"].tobytes().hex())
    assert rep["fec"]["mch"]["errors"] == 76  # the 38 x 2 MBSFN subframes it leaves without a PMCH


def _packets(n, seed=0):
    rng = np.random.default_rng(seed)
    return [udp_datagram(rng.integers(0, 256, int(rng.integers(20, 1400)), np.uint8).tobytes(),
                         ("10.0.0.1", 4000), ("239.1.1.1", 5000), ident=i) for i in range(n)]


@pytest.mark.parametrize("bandwidth, numerology, data_mcs, snr", [
    (5.0, "1.25", 9, 12.0), (5.0, "1.25", 20, 22.0), (10.0, "7.5", 16, 20.0), (3.0, "15e", 9, 14.0),
    (1.4, "1.25", 9, 12.0), (1.4, "15e", 9, 14.0), (20.0, "1.25", 9, 12.0)])
def test_loopback_unknown_start_and_offset(bandwidth, numerology, data_mcs, snr):
    cfg = FembmsConfig(bandwidth_mhz=bandwidth, numerology=numerology, pci=123, area_id=7,
                       pmchs=(PmchConfig(data_mcs=data_mcs, sessions=(SessionConfig(lcid=5),)),))
    packets = _packets(120)
    iq = FembmsTransmitter(cfg).modulate([(5, p) for p in packets])
    y = ChannelEmulator(ChannelConfig(sample_rate=cfg.rate, snr_db=snr, cfo_hz=-900.0, seed=2))(
        np.concatenate([np.zeros(7777, np.complex64), iq]))
    got, rep = FembmsReceiver(cfg.rate).demodulate(y)
    assert got == packets
    assert abs(rep["cfo_hz"] + 900) < 20 and rep["fec"]["mch"]["errors"] == 0


def test_noise_is_no_cell():
    noise = (np.random.default_rng(0).standard_normal(400_000) * 0.1).astype(np.complex64)
    with pytest.raises(SyncLost, match="no FeMBMS cell"):
        FembmsReceiver(7.68e6).demodulate(noise)


def test_cli_tx_to_rx_pcap_and_udp(tmp_path):
    """sdrcast tx fembms (pcap in) -> a cs16 file -> sdrcast rx fembms -> the same packets in a
    pcap, and their UDP payloads re-sent to a socket."""
    import socket
    import subprocess
    import sys

    from sdrcast.sdr_io.payload import PcapSource, write_pcap

    packets = _packets(30, seed=9)
    write_pcap(tmp_path / "in.pcap", packets)
    r = subprocess.run([sys.executable, "-m", "sdrcast", "tx", "fembms", "--preset", "5mhz_1k25_mcs9",
                        "--input", str(tmp_path / "in.pcap"), "--output", str(tmp_path / "c.cs16"),
                        "--quiet"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "sdrcast", "rx", "fembms", "--input", str(tmp_path / "c.cs16"),
                        "--rate", "7.68e6", "--output", str(tmp_path / "out.pcap"), "--report",
                        str(tmp_path / "r.json"), "--report-lines", str(tmp_path / "r.jsonl")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    got = b"".join(bytes(c.data) for c in PcapSource(tmp_path / "out.pcap").generate())
    assert got == b"".join(packets)
    lines = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    seconds = os.path.getsize(tmp_path / "c.cs16") / 4 / 7.68e6
    assert len(lines) == int(seconds) + 1  # one a second of input, and the last at the end
    assert lines[-1] == json.loads((tmp_path / "r.json").read_text())
    assert lines[-1]["payload"]["packets"] == 30
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(20)
        port = s.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "sdrcast", "rx", "fembms", "--input",
                            str(tmp_path / "c.cs16"), "--rate", "7.68e6", "--output", f"udp://127.0.0.1:{port}"],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert [s.recv(65536) for _ in packets] == [p[28:] for p in packets]


@pytest.mark.parametrize("channel", [
    {"profile": "sfn150", "snr_db": 15.0},  # a second transmitter 150 us late (CP: 200 us), -1 dB
    {"cfo_hz": 20e3, "sco_ppm": -20.0, "snr_db": 15.0},
    {"cfo_hz": -20e3, "sco_ppm": 20.0, "snr_db": 15.0},
    {"profile": "tu6", "speed_kmh": 60.0, "carrier_hz": 626e6, "snr_db": 18.0},
])
def test_channels_a_receiver_meets(channel, tmp_path):
    if channel.get("profile") == "sfn150":
        path = tmp_path / "sfn150.json"
        path.write_text('{"name": "SFN", "source": "test", "taps": [{"delay_us": 0.0, "power_db": 0.0, '
                        '"kind": "static"}, {"delay_us": 150.0, "power_db": -1.0, "kind": "static"}]}')
        channel = {**channel, "profile": str(path)}
    cfg = FembmsConfig.preset("5mhz_1k25_mcs9")
    packets = _packets(150, seed=4)
    iq = FembmsTransmitter(cfg).modulate([(1, p) for p in packets])
    y = ChannelEmulator(ChannelConfig(sample_rate=cfg.rate, seed=6, **channel))(
        np.concatenate([np.zeros(3000, np.complex64), iq]))
    got, rep = FembmsReceiver(cfg.rate).demodulate(y)
    assert got == packets, rep["fec"]


def test_streaming_in_small_pieces_with_bounded_memory():
    cfg = FembmsConfig.preset("5mhz_1k25_mcs9")
    packets = _packets(150, seed=5)
    iq = FembmsTransmitter(cfg).modulate([(1, p) for p in packets])
    y = ChannelEmulator(ChannelConfig(sample_rate=cfg.rate, snr_db=15.0, cfo_hz=2e3, seed=1))(
        np.concatenate([np.zeros(1234, np.complex64), iq]))
    rx, got, most = FembmsReceiver(cfg.rate), [], 0
    for i in range(0, y.size, 76_800):  # 10 ms at a time
        got += rx.push(y[i:i + 76_800])
        most = max(most, rx.buf.allocated)
    got += rx.flush()
    assert got == packets
    assert most <= 6 * 40 * 7680  # storage for about two 40 ms blocks kept, never the stream
    # no per-subframe history either (a list of every subframe's noise grew for ever)
    assert all(len(v) < 50 for v in vars(rx).values() if isinstance(v, list | dict))


def test_lost_and_found_again_after_a_gap():
    """A 250 ms hole in the signal: the cell is lost (counted), found again, and every packet
    sent outside the hole's scheduling period comes out."""
    cfg = FembmsConfig.preset("5mhz_1k25_mcs9")
    tx = FembmsTransmitter(cfg)
    first, second = _packets(60, seed=6), _packets(60, seed=7)
    a = tx.modulate([(1, p) for p in first])  # one 320 ms period each
    b = tx.modulate([(1, p) for p in second])
    hole = round(0.25 * cfg.rate)
    y = np.concatenate([a, np.zeros(hole, np.complex64), b[hole:]])
    y = ChannelEmulator(ChannelConfig(sample_rate=cfg.rate, snr_db=15.0, seed=2))(y)
    rx = FembmsReceiver(cfg.rate)
    got = rx.push(y) + rx.flush()
    rep = rx.report()
    assert got[:len(first)] == first
    assert rep["sync_losses"] >= 1 and rep["acquisitions"] == 2
    assert [t[1] for t in rep["transitions"]][-2:] == ["lost", "tracking"]


def test_cli_receives_a_live_zeromq_stream(tmp_path):
    """A carrier looped into ZeroMQ by `sdrcast convert`; `sdrcast rx fembms` streams it for
    --duration seconds and writes the packets as they complete."""
    import socket
    import subprocess
    import sys

    from sdrcast.sdr_io import write_samples
    from sdrcast.sdr_io.payload import PcapSource

    cfg = FembmsConfig.preset("5mhz_1k25_mcs9")
    packets = _packets(40, seed=8)
    write_samples(tmp_path / "c.cf32", FembmsTransmitter(cfg).modulate([(1, p) for p in packets]) * 0.2,
                  cfg.rate)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tx = subprocess.Popen([sys.executable, "-m", "sdrcast", "convert", str(tmp_path / "c.cf32"),
                           f"zmq+push://127.0.0.1:{port}", "--repeat", "--quiet"], stderr=subprocess.DEVNULL)
    try:
        r = subprocess.run([sys.executable, "-m", "sdrcast", "rx", "fembms", "--input",
                            f"zmq+pull://127.0.0.1:{port}", "--rate", "7.68e6", "--duration", "1.0",
                            "--timeout", "30", "--output", str(tmp_path / "o.pcap")],
                           capture_output=True, text=True, timeout=300)
    finally:
        tx.terminate()
        tx.wait(timeout=30)
    assert r.returncode == 0, r.stderr
    got = b"".join(bytes(c.data) for c in PcapSource(tmp_path / "o.pcap").generate())
    assert got.startswith(b"".join(packets)) and len(got) >= len(b"".join(packets))


@pytest.mark.parametrize("args, message", [
    (["--input", "c.cf32", "--output", "o.pcap"], "its sample rate is not known; give --rate"),
    (["--input", "c.cf32", "--rate", "10e6", "--output", "o.pcap"], "multiple of 1.92 Msps"),
    (["--input", "c.cf32", "--rate", "7.68e6", "--output", "o.txt"], "use x.pcap, udp://"),
])
def test_cli_bad_input_one_line(args, message, tmp_path):
    import subprocess
    import sys

    (tmp_path / "c.cf32").write_bytes(bytes(8 * 1000))
    r = subprocess.run([sys.executable, "-m", "sdrcast", "rx", "fembms", *args], capture_output=True,
                       text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert message in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr


def test_cli_noise_and_cut_captures_exit_1(tmp_path):
    """Nothing useful came out: exit 1 with one line, for noise and for a capture cut short."""
    import subprocess
    import sys

    from sdrcast.sdr_io import write_samples

    noise = (np.random.default_rng(0).standard_normal(400_000) * 0.1).astype(np.complex64)
    write_samples(tmp_path / "n.sigmf-data", noise, 7.68e6)
    cfg = FembmsConfig.preset("5mhz_1k25_mcs9")
    write_samples(tmp_path / "cut.sigmf-data", FembmsTransmitter(cfg).subframes(20), cfg.rate)
    for name in ("n", "cut"):
        r = subprocess.run([sys.executable, "-m", "sdrcast", "rx", "fembms", "--input",
                            str(tmp_path / f"{name}.sigmf-data"), "--output", str(tmp_path / "o.pcap")],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.strip().splitlines()[-1].startswith("sdrcast: "), r.stderr


def test_fading_never_throws_a_block_off_timing():
    """TU-6 at 30 km/h, 15 kHz extended CP at 3 MHz, 25 dB: when the first paths fade, the
    PSS peak jumps to a later path; following it whole put a block's FFT windows past the early
    echoes (39 MCH blocks lost at once). The timing now moves at most the clock's drift a block,
    on clear peaks only, and the windows start a quarter of the prefix early."""
    cfg = FembmsConfig(bandwidth_mhz=3.0, numerology="15e", pci=17, area_id=3,
                       pmchs=(PmchConfig(data_mcs=9, sessions=(SessionConfig(lcid=1),)),))
    tx = FembmsTransmitter(cfg)
    packets = [udp_datagram(i.to_bytes(4, "big") + bytes(496), ("10.0.0.1", 4000), ("239.1.1.1", 5000),
                            ident=i) for i in range(554)]
    iq = np.concatenate([tx.push([(1, p) for p in packets[i:i + 50]]) for i in range(0, 554, 50)]
                        + [tx.flush()])
    channel = ChannelEmulator(ChannelConfig(sample_rate=cfg.rate, snr_db=25.0, profile="tu6", speed_kmh=30.0,
                                            carrier_hz=626e6, seed=3))
    y = channel(np.concatenate([np.zeros(5000, np.complex64), iq]))
    got, rep = FembmsReceiver(cfg.rate).demodulate(y)
    assert rep["fec"]["mch"]["errors"] == 0 and got == packets


def test_two_pmchs_each_with_its_own_mcs_and_sessions():
    """Two PMCHs in the area, each owning part of the period's subframes at its own MCS with
    its own MTCHs: the receiver follows the MCCH's sf-AllocEnd per PMCH and delivers both.
    (It used to decode every subframe at the first PMCH's MCS and drop the second's LCIDs.)"""
    cfg = FembmsConfig(bandwidth_mhz=5.0, numerology="1.25", pci=9, area_id=2, scheduling_period="rf16",
                       pmchs=(PmchConfig(data_mcs=9, sf_alloc_end=69, sessions=(SessionConfig(lcid=1),)),
                              PmchConfig(data_mcs=16, sessions=(SessionConfig(lcid=2),
                                                                SessionConfig(lcid=3, session_id=2)))))
    tx = FembmsTransmitter(cfg)
    a, b, c = _packets(60, seed=7), _packets(60, seed=8), _packets(30, seed=9)
    iq = tx.modulate([(1, p) for p in a] + [(2, p) for p in b] + [(3, p) for p in c])
    y = ChannelEmulator(ChannelConfig(sample_rate=cfg.rate, snr_db=18.0, cfo_hz=300.0, seed=4))(iq)
    got, rep = FembmsReceiver(cfg.rate).demodulate(y)
    assert [(p["sf_alloc_end"], p["data_mcs"], p["lcids"]) for p in rep["pmchs"]] == [(69, 9, [1]),
                                                                                      (155, 16, [2, 3])]
    assert sorted(got) == sorted(a + b + c) and rep["fec"]["mch"]["errors"] == 0
    assert rep["payload"]["per_lcid"] == {1: 60, 2: 60, 3: 30}


def test_a_256qam_pmch_is_signalled_and_received():
    """A PMCH on the 256QAM MCS table goes to pmch-InfoListExt-r12 with dataMCS-r12
    higerOrder-r12 (36.331); the receiver reads the table from there. (The MCCH used to carry
    the MCS as dataMCS-r9, which every receiver reads on the 64QAM table.)"""
    from sdrcast.mac.fembms import rrc

    cfg = FembmsConfig(bandwidth_mhz=5.0, numerology="1.25", pci=5, area_id=1, scheduling_period="rf16",
                       pmchs=(PmchConfig(data_mcs=9, sf_alloc_end=39, sessions=(SessionConfig(lcid=1),)),
                              PmchConfig(data_mcs=20, mcs_table="256QAM", sessions=(SessionConfig(lcid=2),))))
    tx = FembmsTransmitter(cfg)
    pmchs = rrc.pmchs_of(rrc.parse_mcch(tx.mcch))
    assert [(p.data_mcs, p.mcs_table) for p in pmchs] == [(9, "64QAM"), (20, "256QAM")]
    assert "pmch-InfoListExt-r12" in rrc.parse_mcch(tx.mcch)["nonCriticalExtension"]["nonCriticalExtension"]
    a, b = _packets(30, seed=10), _packets(120, seed=11)
    iq = tx.modulate([(1, p) for p in a] + [(2, p) for p in b])
    y = ChannelEmulator(ChannelConfig(sample_rate=cfg.rate, snr_db=32.0, seed=5))(iq)
    got, rep = FembmsReceiver(cfg.rate).demodulate(y)
    assert rep["pmchs"][1]["mcs_table"] == "256QAM" and rep["fec"]["mch"]["errors"] == 0
    assert rep["payload"]["per_lcid"] == {1: 30, 2: 120} and sorted(got) == sorted(a + b)


@pytest.mark.parametrize("ppm", [20.0, -20.0])
def test_report_measures_the_sample_clock_and_both_mers(ppm):
    """1.5 s at 20 dB with the sample clock 20 ppm off: the report's SCO is the timing
    tracking's drift (within 2 ppm), the CAS's MER (from its CRS) agrees with the MBSFN
    subframes' (it was stuck at the estimator's 40 dB floor: no CRS repeats on a carrier
    within a subframe to measure noise in time)."""
    cfg = FembmsConfig.preset("5mhz_1k25_mcs9")
    iq = FembmsTransmitter(cfg).subframes(1500)
    y = ChannelEmulator(ChannelConfig(sample_rate=cfg.rate, snr_db=20.0, sco_ppm=ppm, seed=1))(iq)
    _, rep = FembmsReceiver(cfg.rate).demodulate(y)
    assert abs(rep["sco_ppm"] - ppm) < 2
    assert abs(rep["mer_cas_db"] - rep["mer_db"]) < 1.5 and 18 < rep["mer_db"] < 21


def test_report_lines_one_a_second_of_input(tmp_path):
    """``--report-lines``: the streaming sink appends the report once per second of input
    pushed, and the final one at the end (2.5 s: three lines; samples_in grows by a second)."""
    from sdrcast.flowgraphs.common import PacketOutput
    from sdrcast.flowgraphs.fembms_rx import FembmsRxSink
    from sdrcast.runtime import Chunk

    cfg = FembmsConfig.preset("5mhz_1k25_mcs9")
    iq = FembmsTransmitter(cfg).subframes(2500)
    out = PacketOutput(str(tmp_path / "p.pcap"))
    sink = FembmsRxSink(cfg.rate, out, str(tmp_path / "r.jsonl"))
    for i in range(0, iq.size, 76_800):
        sink.consume(Chunk(iq[i:i + 76_800]))
    sink.finish()
    out.close()
    lines = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [r["samples_in"] for r in lines] == [7_680_000, 15_360_000, iq.size]
    assert lines[-1]["sync_state"] == "tracking" and lines[-1]["fec"]["mch"]["errors"] == 0


def test_garbage_bytes_as_samples_are_no_cell_not_a_crash(tmp_path):
    """Random bytes read as cf32 hold NaN and Inf: erased and counted, the run ends with "no
    FeMBMS cell found" and exit 1 (it ended in an IndexError inside the cell search)."""
    import subprocess
    import sys

    junk = tmp_path / "junk.cf32"
    junk.write_bytes(np.random.default_rng(3).integers(0, 256, 3_000_000, np.uint8).tobytes())
    r = subprocess.run([sys.executable, "-m", "sdrcast", "rx", "fembms", "--input", str(junk), "--rate",
                        "7.68e6", "--output", str(tmp_path / "x.pcap")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "no FeMBMS cell found" in r.stderr and "Error" not in r.stderr, r.stderr
