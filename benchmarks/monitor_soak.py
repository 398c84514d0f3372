"""Soak of the monitoring station: two channels in real time over ZeroMQ for a long time, the
station's memory (RSS) over time, seconds of metrics lost, and CPU per channel.

    .venv/bin/python benchmarks/monitor_soak.py                 # 30 minutes
    .venv/bin/python benchmarks/monitor_soak.py --minutes 3

Three processes, as a station runs: two `sdrcast convert LOOP.sigmf-data zmq+push://…
--repeat --throttle RATE` feeders, each sending a 4 s recording over and over at its sample
rate, and `sdrcast monitor --config station.toml` watching both (standards identified, not
given). The signals are FeMBMS (1.4 MHz at 1.92 Msps, and 3 MHz at 3.84 Msps with the
extended-CP 15 kHz numerology) through TU-6 fading: the receivers that keep up with a live
signal on 2 cores (the ATSC 3.0 and DTMB receivers run below real time today, so a live
channel of theirs would lose seconds however the station behaves). Each recording's
wrap-around is a discontinuity the receiver re-synchronises on: its IP loss is counted, not
hidden. RSS and CPU of the station (its process and the one per channel, summed) are read
from /proc every 10 s; the seconds recorded per
channel come from its SQLite history at the end. Results: benchmarks/results/monitor_soak.json,
with the CPU.
"""
from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import machine
import numpy as np
from soak import free_port, rss_mb

from sdrcast.channel.emulator import ChannelConfig, ChannelEmulator
from sdrcast.mac.ip import udp_datagram
from sdrcast.phy.fembms.config import FembmsConfig, PmchConfig, SessionConfig
from sdrcast.phy.fembms.transmitter import FembmsTransmitter
from sdrcast.sdr_io import write_samples

SIGNALS = {  # channel name -> (bandwidth MHz, numerology)
    "fembms-1m4": (1.4, "1.25"),
    "fembms-3m": (3.0, "15e"),
}
LOOP_S = 4.0


def family(pid: int) -> list[int]:
    """``pid`` and every process below it (the station spawns one per channel)."""
    parents = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parents[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += [c for c, pp in parents.items() if pp == p]
    return out


def total(fn, pid: int) -> float:
    s = 0.0
    for p in family(pid):
        try:
            s += fn(p)
        except (OSError, ValueError):
            continue
    return s


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / 100.0  # utime, stime in clock ticks (USER_HZ = 100)


def seconds_so_far(url: str) -> dict[str, float]:
    """Seconds of signal measured so far per channel, from the station's /metrics."""
    from urllib.request import urlopen

    from prometheus_client.parser import text_string_to_metric_families

    try:
        text = urlopen(url, timeout=5).read().decode()
    except OSError:
        return {}
    return {s.labels["channel"]: s.value for f in text_string_to_metric_families(text)
            if f.name == "sdrcast_seconds_measured" for s in f.samples if s.name.endswith("_total")}


def make_signal(path: Path, bandwidth: float, numerology: str, seed: int) -> float:
    cfg = FembmsConfig(bandwidth_mhz=bandwidth, numerology=numerology, pci=seed * 10 + 1, area_id=1,
                       pmchs=(PmchConfig(data_mcs=9, sessions=(SessionConfig(lcid=5),)),))
    rng = np.random.default_rng(seed)
    tx = FembmsTransmitter(cfg)
    packets, iq = [], np.zeros(0, np.complex64)
    i = 0
    while iq.size < LOOP_S * cfg.rate:  # enough IP for the loop's length at any MCH capacity
        packets = [(5, udp_datagram(rng.integers(0, 256, 1000, np.uint8).tobytes(), ("10.0.0.1", 4000),
                                    ("239.1.1.1", 5000), ident=i + k)) for k in range(200)]
        i += 200
        iq = np.concatenate([iq, tx.push(packets)])
    iq = np.concatenate([iq, tx.flush()])[:int(LOOP_S * cfg.rate)]
    y = ChannelEmulator(ChannelConfig(sample_rate=cfg.rate, snr_db=25.0, profile="tu6", speed_kmh=3.0,
                                      carrier_hz=626e6, cfo_hz=300.0, seed=seed))(iq)
    write_samples(path, (0.25 * y / np.sqrt(np.mean(np.abs(y) ** 2))).astype(np.complex64), cfg.rate, 626e6)
    return cfg.rate


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "monitor_soak.json"))
    args = ap.parse_args()
    sdrcast = str(Path(sys.executable).parent / "sdrcast")
    tmp = Path(tempfile.mkdtemp(prefix="monitor_soak_"))
    channels, feeders = [], []
    for k, (name, (bw, num)) in enumerate(SIGNALS.items()):
        rate = make_signal(tmp / f"{name}.sigmf-data", bw, num, k + 1)
        port = free_port()
        feeders.append(subprocess.Popen([sdrcast, "convert", str(tmp / f"{name}.sigmf-data"),
                                         f"zmq+push://127.0.0.1:{port}", "--repeat", "--throttle", str(rate),
                                         "--quiet"]))
        channels.append(f'[[channels]]\nname = "{name}"\ninput = "zmq+pull://127.0.0.1:{port}"\n'
                        f"rate = {rate}\nfreq = 626e6\n")
    seconds = args.minutes * 60
    http = f"127.0.0.1:{free_port()}"
    (tmp / "station.toml").write_text(
        f'[station]\nname = "soak"\nhttp = "{http}"\ndatabase = "{tmp / "m.sqlite"}"\n'
        f'recordings = "{tmp / "rec"}"\nduration = {seconds}\n\n' + "\n".join(channels))
    t0 = time.monotonic()
    station = subprocess.Popen([sdrcast, "monitor", "--config", str(tmp / "station.toml")],
                               stderr=subprocess.DEVNULL)
    samples = []
    try:
        while station.poll() is None:
            time.sleep(10)
            if station.poll() is None:
                samples.append({"t_s": round(time.monotonic() - t0, 1),
                                "rss_mb": round(total(rss_mb, station.pid), 1),
                                "cpu_s": total(cpu_s, station.pid), "processes": len(family(station.pid)),
                                "feeder_cpu_s": [cpu_s(f.pid) for f in feeders],
                                "measured": seconds_so_far(f"http://{http}/metrics")})
                print(f"{samples[-1]['t_s']:7.0f} s  RSS {samples[-1]['rss_mb']:7.1f} MB  "
                      f"CPU {samples[-1]['cpu_s']:8.1f} s  measured {samples[-1]['measured']}", flush=True)
        rc = station.wait()
    finally:
        for f in feeders:  # SIGTERM: a process started in the background ignores SIGINT
            f.send_signal(signal.SIGTERM)
        for f in feeders:
            try:
                f.wait(10)
            except subprocess.TimeoutExpired:
                f.kill()
        if station.poll() is None:
            station.kill()
    wall = time.monotonic() - t0
    db = sqlite3.connect(tmp / "m.sqlite")
    per = {}
    for name in SIGNALS:
        rows = db.execute("SELECT name, COUNT(*), SUM(value) FROM metrics WHERE channel=? GROUP BY name",
                          (name,)).fetchall()
        got = {n: (c, s) for n, c, s in rows}
        measured = got.get("level_dbfs", (0, 0))[0]
        per[name] = {"seconds_measured": measured, "seconds_in_sync": int(got.get("sync", (0, 0))[1] or 0),
                     "ip_packets": int(got.get("ip_packets", (0, 0))[1] or 0),
                     "ip_lost": int(got.get("ip_lost", (0, 0))[1] or 0),
                     "events": db.execute("SELECT kind, COUNT(*) FROM events WHERE channel=? GROUP BY kind",
                                          (name,)).fetchall()}
    steady = [s for s in samples if s["t_s"] >= 60]  # after the receivers' start
    span = steady[-1]["t_s"] - steady[0]["t_s"] if len(steady) > 1 else 0
    steady_lost = {n: round(span - (steady[-1]["measured"].get(n, 0) - steady[0]["measured"].get(n, 0)), 1)
                   for n in SIGNALS} if span else None
    rss = [s["rss_mb"] for s in steady] or [s["rss_mb"] for s in samples]
    cpu_rate = ((samples[-1]["cpu_s"] - steady[0]["cpu_s"]) / (samples[-1]["t_s"] - steady[0]["t_s"])
                if len(steady) > 1 else None)
    result = {"machine": machine.cpu(), "minutes": args.minutes, "wall_s": round(wall, 1), "exit_code": rc,
              "channels": per,
              "seconds_lost": {n: max(int(seconds) - 2 - p["seconds_measured"], 0) for n, p in per.items()},
              "steady_window_s": span,
              "seconds_lost_after_first_minute": steady_lost,
              "rss_mb": {"first_minute_end": rss[0], "min": min(rss), "max": max(rss), "last": rss[-1],
                         "growth_after_first_minute": round(rss[-1] - rss[0], 1)},
              "station_cpu_cores": round(cpu_rate, 3) if cpu_rate is not None else None,
              "cpu_cores_per_channel": round(cpu_rate / len(SIGNALS), 3) if cpu_rate is not None else None,
              "feeder_cpu_cores": ([round((samples[-1]["feeder_cpu_s"][i] - steady[0]["feeder_cpu_s"][i])
                                          / (samples[-1]["t_s"] - steady[0]["t_s"]), 3)
                                    for i in range(len(feeders))] if len(steady) > 1 else None),
              "rss_samples": [(s["t_s"], s["rss_mb"]) for s in samples]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "rss_samples"}, indent=1))
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
