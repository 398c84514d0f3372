"""Soak: a real-time DTMB signal over ZeroMQ into the streaming receiver for a long time,
reporting the receiver's memory (RSS) over time, frames dropped and packets lost.

    .venv/bin/python benchmarks/soak.py                      # 10 minutes, mode 6
    .venv/bin/python benchmarks/soak.py --minutes 2 --preset mode2

Two processes, as a station runs them: `sdrcast convert LOOP.cf32 zmq+pub://… --repeat
--throttle 7.56e6` sends a 4 s recording over and over at the sample rate, and `sdrcast rx
dtmb --input zmq+sub://…` receives it until SIGINT after the given time (live: a receiver
slower than the signal drops whole frames, counted; tag offsets count what ZeroMQ dropped).
RSS of the receiver is read from /proc every 10 s. The recording's wrap-around is a
discontinuity the receiver re-synchronises on (counted). The ATSC 3.0 receiver reads whole
captures only until its streaming issue lands; it is not soaked here.
Results: benchmarks/results/soak.json, with the CPU.
"""
from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import machine
import numpy as np

from sdrcast.channel.awgn import Awgn
from sdrcast.flowgraphs.common import DEFAULT_LEVEL_DBFS, level_scale
from sdrcast.mac.ts import sample_stream
from sdrcast.phy.dtmb import PRESETS, DtmbTransmitter
from sdrcast.sdr_io import write_samples


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--preset", default="mode6")
    ap.add_argument("--snr", type=float, default=20.0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "soak.json"))
    args = ap.parse_args()
    cfg = PRESETS[args.preset]
    seconds = args.minutes * 60
    with tempfile.TemporaryDirectory() as d:
        frames = int(4.0 * 7.56e6 / cfg.frame_symbols)
        ts = sample_stream(frames * cfg.ts_bytes_per_frame // 188, seed=1)
        iq = Awgn(args.snr, seed=2)(DtmbTransmitter(cfg).push(ts))
        iq *= np.float32(level_scale(DEFAULT_LEVEL_DBFS, DtmbTransmitter(cfg).nominal_power))
        loop = Path(d) / "loop.cf32"
        write_samples(loop, iq, 7.56e6)
        port = free_port()
        exe = [sys.executable, "-m", "sdrcast"]
        tx = subprocess.Popen(exe + ["convert", str(loop), f"zmq+pub://127.0.0.1:{port}?pass_tags=1",
                                     "--repeat", "--throttle", "7.56e6", "--quiet"])
        report = Path(d) / "rx.json"
        rx = subprocess.Popen(exe + ["rx", "dtmb", "--input",
                                     f"zmq+sub://127.0.0.1:{port}?pass_tags=1",
                                     "--rate", "7.56e6", "--output", str(Path(d) / "out.ts"),
                                     "--timeout", "10", "--quiet",
                                     "--report", str(report)], stderr=subprocess.PIPE, text=True)
        t0, samples = time.monotonic(), []
        while rx.poll() is None and time.monotonic() - t0 < seconds:
            samples.append((round(time.monotonic() - t0, 1), round(rss_mb(rx.pid), 1)))
            print(f"{samples[-1][0]:7.1f} s  RX RSS {samples[-1][1]:7.1f} MB", flush=True)
            time.sleep(min(10, max(0.1, seconds - (time.monotonic() - t0))))
        rx.send_signal(signal.SIGINT)  # a station operator's Ctrl-C: report written, exit 130
        try:
            err = rx.communicate(timeout=60)[1]
        except subprocess.TimeoutExpired:
            rx.kill()
            err = rx.communicate()[1] + "\n(did not stop within 60 s of SIGINT)"
        tx.terminate()
        tx.wait()
        rep = json.loads(report.read_text()) if report.exists() else {}
        out_packets = (Path(d) / "out.ts").stat().st_size // 188 if (Path(d) / "out.ts").exists() else 0
    steady = [r for t, r in samples if t >= min(seconds / 3, samples[-1][0] / 2)] or [float("nan")]
    result = {"date": time.strftime("%Y-%m-%d"), "cpu": machine.cpu(), "preset": args.preset,
              "minutes": args.minutes, "exit_code": rx.returncode, "rss_mb": samples,
              "rss_steady_mb": [min(steady), max(steady)],  # after the first third of the run
              "rss_steady_spread_pct": 100 * (max(steady) - min(steady)) / min(steady),
              "zmq_items_lost": rep.get("source", {}).get("items_lost", 0),
              "frames": rep.get("frames"), "frames_dropped": rep.get("frames_dropped"),
              "frames_out": rep.get("frames_out"), "sync_losses": rep.get("sync_losses"),
              "ts_packets_out": out_packets, "ts_packets_marked": rep.get("ts_packets_marked"),
              "summary": err.strip().splitlines()[-2:]}
    print(json.dumps({k: v for k, v in result.items() if k != "rss_mb"}, indent=1))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    return 0 if rx.returncode == 130 else 1


if __name__ == "__main__":
    sys.exit(main())
