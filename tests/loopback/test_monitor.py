"""The monitoring station on signals from sdrcast's transmitters through the channel emulator:
an alarm raised and cleared as a channel degrades and recovers, with a SigMF recording
holding the degraded samples; a channel switching standard, garbage samples and a dying
input are events, never a crash; the command's exit codes (issue 14)."""
import dataclasses
import json
import sqlite3
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from sdrcast.mac.ip import udp_datagram
from sdrcast.mac.ts.mux import ProgramMux
from sdrcast.monitor.config import AlarmRule, ChannelConfig, StationConfig
from sdrcast.monitor.station import Station
from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter
from sdrcast.sdr_io.files import read_meta, read_samples, write_samples


def atsc3_signal(seconds: float, bsr: int = 2) -> tuple[np.ndarray, float]:
    """An ATSC 3.0 signal (preset vector_s05, one PLP) carrying a program stream."""
    cfg = dataclasses.replace(Atsc3Config.preset("vector_s05"), bsr_coefficient=bsr)
    tx = Atsc3Transmitter(cfg)
    ts = ProgramMux(tx.payload_bitrates()[0]).seconds(seconds)
    return tx.modulate(ts), cfg.sample_rate


def noisy(iq: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """``iq`` (unit power) with white noise at ``snr_db``."""
    w = np.random.default_rng(seed).standard_normal(2 * iq.size, np.float32).view(np.complex64)
    return (iq + w * np.float32(10 ** (-snr_db / 20) / np.sqrt(2))).astype(np.complex64)


@pytest.fixture(scope="module")
def clean():
    return atsc3_signal(5.0)


def station(tmp_path, channels, alarms, **kw) -> Station:
    cfg = StationConfig(channels=tuple(channels), alarms=tuple(alarms), http="",
                        database=str(tmp_path / "m.sqlite"), recordings=str(tmp_path / "rec"), **kw)
    return Station(cfg)


def events(st: Station, kind: str) -> list[dict]:
    return [e for e in st.store.events(0, 1e12)[::-1] if e["kind"] == kind]


def test_a_degrading_channel_raises_an_alarm_with_a_recording_of_the_bad_seconds(tmp_path, clean):
    iq, rate = clean
    a, b = int(2 * rate), int(3.5 * rate)  # 30 dB, then 1.5 s at 14 dB, then 30 dB again
    y = np.concatenate([noisy(iq[:a], 30, 1), noisy(iq[a:b], 14, 2), noisy(iq[b:], 30, 3)])
    write_samples(tmp_path / "a.sigmf-data", y, rate, 593e6)
    rule = AlarmRule("mer_db", below=20.0, hold_s=1, clear_s=1, hysteresis=1.0, name="MER low")
    st = station(tmp_path, [ChannelConfig("atsc3-593", str(tmp_path / "a.sigmf-data"), realtime=False,
                                          freq=593e6)], [rule], pre_s=2.0, post_s=1.0)
    summary = st.run()
    assert summary["seconds"]["atsc3-593"] >= 5
    alarms = events(st, "alarm")
    assert [e["data"]["state"] for e in alarms] == ["raised", "cleared"], alarms
    t0 = st.store.metrics(0, 1e12)[0]["t"] - 1  # the input's start: its first second ends at t0 + 1
    raised, cleared = alarms[0]["t"] - t0, alarms[1]["t"] - t0
    assert 2.0 < raised <= 3.5 and 3.5 < cleared <= 5.1
    assert "identify" in {e["kind"] for e in st.store.events(0, 1e12)}
    # the recording: a stretch of the input holding the first degraded samples, annotated
    rec = st.store.recordings()
    assert len(rec) == 1 and rec[0]["alarm"] == "MER low"
    got, meta = read_samples(rec[0]["path"])
    start = int(np.flatnonzero(np.all(np.lib.stride_tricks.sliding_window_view(y, 4) == got[:4], axis=1))[0])
    assert np.array_equal(got, y[start:start + got.size])
    assert start < a and start + got.size > a + 0.5 * rate
    ann = read_meta(rec[0]["path"]).annotations[0]
    assert ann["core:label"] == "MER low" and meta.sample_rate == rate and meta.center_freq == 593e6
    assert a <= start + ann["core:sample_start"] <= b
    # per-second history: level, MER (this second's), FEC, TS
    db = sqlite3.connect(tmp_path / "m.sqlite")
    names = {r[0] for r in db.execute("SELECT DISTINCT name FROM metrics")}
    assert {"level_dbfs", "mer_db", "fer", "ts_packets", "Continuity_count_error", "tr_priority1",
            "pre_fec_ber", "ldpc_iterations"} <= names
    ber = [r[0] for r in db.execute("SELECT value FROM metrics WHERE name='pre_fec_ber' ORDER BY t")]
    assert max(ber) > 10 * max(min(ber), 1e-4)  # the channel's bit errors rise at 14 dB
    mer = [r[0] for r in db.execute("SELECT value FROM metrics WHERE name='mer_db' ORDER BY t")]
    assert min(mer) < 15 and mer[-1] > 28
    # the last second's per-PID bit rates add up to the stream's; AWGN shows no echo
    last = st.latest["atsc3-593"]
    rates = last["state"]["pid_bitrates"]["plp0"]
    assert {"0x0000", "0x0011", "0x0100", "0x0101", "0x1000"} <= set(rates)
    assert sum(rates.values()) == last["metrics"]["ts_bitrate"] > 0
    assert rates["0x0100"] > 0.5 * last["metrics"]["ts_bitrate"]  # the video PID carries most
    assert last["state"]["echo_profile"]["echoes"] == [] and "echo_db" not in last["metrics"]
    assert len(last["state"]["constellation"]) > 100  # the PLP's equalised cells


def test_a_channel_switching_standard_is_followed(tmp_path):
    from sdrcast.phy.fembms.config import FembmsConfig, PmchConfig, SessionConfig
    from sdrcast.phy.fembms.transmitter import FembmsTransmitter

    a3, rate = atsc3_signal(2.0, bsr=4)  # 7.68 Msps: an ATSC 3.0 rate and LTE's at 5 MHz
    cfg = FembmsConfig(bandwidth_mhz=5.0, numerology="1.25", pci=77, area_id=1,
                       pmchs=(PmchConfig(data_mcs=9, sessions=(SessionConfig(lcid=5),)),))
    assert cfg.rate == rate
    packets = [(5, udp_datagram(bytes(1400), ("10.0.0.1", 1), ("239.1.1.1", 5000), ident=i))
               for i in range(1500)]
    fe = FembmsTransmitter(cfg).modulate(packets)  # 4.8 s
    write_samples(tmp_path / "s.sigmf-data", noisy(np.concatenate([a3, fe]), 25, 4), rate)
    st = station(tmp_path, [ChannelConfig("switch", str(tmp_path / "s.sigmf-data"), realtime=False)], [])
    st.run()
    said = [e["message"] for e in events(st, "identify")]
    assert said[0] == "atsc3 identified" and "standard changed from atsc3 to fembms" in said, said
    db = sqlite3.connect(tmp_path / "m.sqlite")
    assert db.execute("SELECT MAX(value) FROM metrics WHERE name='ip_packets'").fetchone()[0] > 0


def test_garbage_samples_are_no_standard_not_a_crash(tmp_path):
    raw = np.random.default_rng(0).integers(0, 256, 8 * 5_000_000, np.uint8)  # 2.5 s at 2 Msps
    (tmp_path / "junk.cf32").write_bytes(raw.tobytes())  # NaN and Inf among them
    st = station(tmp_path, [ChannelConfig("junk", str(tmp_path / "junk.cf32"), rate=2e6,
                                          realtime=False)], [AlarmRule("sync", below=0.5, hold_s=0)])
    summary = st.run()
    assert summary["seconds"]["junk"] >= 1
    assert [e["message"] for e in events(st, "identify")][0].startswith("no known standard")
    assert events(st, "alarm")[0]["data"]["metric"] == "sync"


def test_a_dying_input_is_reported_and_opened_again(tmp_path):
    import zmq

    port = 5600 + np.random.default_rng().integers(0, 300)
    stop = threading.Event()

    def sender():
        ctx = zmq.Context.instance()
        s = ctx.socket(zmq.PUSH)
        s.bind(f"tcp://127.0.0.1:{port}")
        x = (np.random.default_rng(1).standard_normal(6912 * 2) * 0.01).astype(np.complex64)
        t = time.monotonic()
        while time.monotonic() - t < 1.5 and not stop.is_set():  # 1.5 s of noise, then silence
            s.send(x.tobytes())
            time.sleep(0.002)
        s.close(linger=0)

    th = threading.Thread(target=sender)
    th.start()
    st = station(tmp_path, [ChannelConfig("net", f"zmq+pull://127.0.0.1:{port}", rate=6.912e6,
                                          standard="atsc3", retry_s=0.5)],
                 [AlarmRule("input_up", below=0.5, hold_s=0, name="input down")], duration=6.0)
    st.run()
    stop.set()
    th.join()
    failed = [e for e in events(st, "input") if "failed" in e["message"]]
    assert failed and events(st, "alarm")[0]["data"]["alarm"] == "input down"
    db = sqlite3.connect(tmp_path / "m.sqlite")
    assert db.execute("SELECT COUNT(*) FROM metrics WHERE name='input_up' AND value=0").fetchone()[0] >= 2


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "sdrcast", "monitor", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=200)


def test_command_exit_codes_and_export(tmp_path, clean):
    r = _cli("--input", "missing.cf32", "--rate", "6.912e6", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "missing.cf32" in r.stderr
    r = _cli(cwd=tmp_path)
    assert r.returncode == 2 and "--config" in r.stderr
    r = _cli("export", "--db", "none.sqlite", cwd=tmp_path)
    assert r.returncode == 2 and "none.sqlite" in r.stderr
    iq, rate = clean
    write_samples(tmp_path / "a.sigmf-data", noisy(iq[:int(2 * rate)], 30, 1), rate)
    r = _cli("--input", "a.sigmf-data", "--as-fast", "--http", "", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "atsc3 identified" in r.stderr and "channel-seconds measured" in r.stderr
    r = _cli("export", "--db", "monitor.sqlite", "--as", "json", "-o", "h.json", cwd=tmp_path)
    assert r.returncode == 0 and len(json.loads((tmp_path / "h.json").read_text())["metrics"]) > 20
    r = _cli("export", "--db", "monitor.sqlite", "--from", "2030-01-01T00:00:00Z", "--to", "2029-01-01",
             cwd=tmp_path)
    assert r.returncode == 2 and "after" in r.stderr


@pytest.fixture(autouse=True)
def _no_threads_left():
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate()
            if t not in before and t.name.startswith(("channel-", "monitor-"))]
    assert not left
