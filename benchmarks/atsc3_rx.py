"""ATSC 3.0 receiver speed: x real time of Atsc3Receiver (no configuration given) on every
preset, fully loaded, through AWGN a few dB above its hardest PLP's threshold, the input pushed
10 ms at a time as a live source gives it, on 2 threads (frame decoding behind the next frame's
OFDM). Per preset: all PLPs decoded, and each PLP alone (``--plp`` as a user would give it).
Steady state: timed from the first push after the configuration is read. Results with the CPU
model to benchmarks/results/atsc3_rx.json.

    python benchmarks/atsc3_rx.py [--frames 8] [--preset mobile_fixed_tdm ...]
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import machine
import numpy as np

from sdrcast.channel.awgn import Awgn
from sdrcast.mac.ts import sample_stream
from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter
from sdrcast.phy.atsc3.receiver import Atsc3Receiver

OUT = Path(__file__).with_name("results")
# preset -> SNR (dB): a few dB above the hardest PLP's AWGN threshold (1024-NUC 11/15: 30)
CASES = {"mobile_fixed_tdm": 25.0, "fixed_16k_256nuc": 25.0, "mobile_fixed_ldm": 25.0,
         "mobile_fixed_subframes": 30.0, "vector_s01": 25.0, "vector_s05": 20.0}


def signal(preset: str, snr_db: float, frames: int) -> tuple[np.ndarray, Atsc3Config, dict]:
    cfg = Atsc3Config.preset(preset)
    tx = Atsc3Transmitter(cfg)
    rates = tx.payload_bitrates()
    seconds = frames * tx.frame_samples_count / cfg.sample_rate
    ts = {i: sample_stream(int(r * seconds / 8 / 188), seed=i) for i, r in rates.items()}
    return Awgn(snr_db, seed=1)(tx.modulate(ts)), cfg, rates


def rx_speed(iq: np.ndarray, cfg: Atsc3Config, plps) -> dict:
    rx, chunk = Atsc3Receiver(cfg.sample_rate, plps=plps), round(0.01 * cfg.sample_rate)
    t0 = time.perf_counter()
    steady = None
    for at in range(0, iq.size, chunk):
        rx.push(iq[at:at + chunk])
        if steady is None and rx.demod is not None:
            steady = (at + chunk, time.perf_counter())
    rx.flush()
    t1 = time.perf_counter()
    rx.close()
    rep = rx.report()
    # steady: once the configuration is read (not measured when that took most of the input)
    steady_x = (iq.size - steady[0]) / cfg.sample_rate / (t1 - steady[1]) if steady[0] < iq.size / 2 else None
    return {"x_real_time": round(iq.size / cfg.sample_rate / (t1 - t0), 2),
            "x_real_time_steady": round(steady_x, 2) if steady_x else None,
            "frames": rep["frames"], "ldpc_failures": rep["fec"]["ldpc_failures"],
            "fec_blocks": rep["fec"]["fec_blocks"]}


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=8, help="frames per preset")
    ap.add_argument("--preset", action="append", choices=sorted(CASES), help="presets (default: all)")
    args = ap.parse_args()
    print(f"CPU: {machine.describe()}")
    out = {"cpu": machine.cpu(), "date": time.strftime("%Y-%m-%d %H:%M"), "rx": []}
    for preset in args.preset or CASES:
        iq, cfg, rates = signal(preset, CASES[preset], args.frames)
        Atsc3Receiver(cfg.sample_rate).demodulate(iq[:iq.size // 3])  # compile
        for plps in [None] + ([[i] for i in sorted(rates)] if len(rates) > 1 else []):
            r = {"preset": preset, "snr_db": CASES[preset], "plps": plps or "all",
                 "mbps": round(sum(v for i, v in rates.items() if plps is None or i in plps) / 1e6, 2),
                 **rx_speed(iq, cfg, plps)}
            out["rx"].append(r)
            print(f"{preset:24s} PLPs {str(r['plps']):5s} {r['mbps']:6.2f} Mbit/s: {r['x_real_time']:5.2f}x "
                  f"real time, {r['x_real_time_steady'] or float('nan'):5.2f}x steady; LDPC failures "
                  f"{r['ldpc_failures']}/{r['fec_blocks']}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "atsc3_rx.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
