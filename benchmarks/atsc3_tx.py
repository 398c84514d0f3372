"""ATSC 3.0 transmitter speed, x real time, for every preset (station setups and the gr-atsc3
vector sets) and one with tone reservation (``fixed_16k_256nuc+TR``).

    python benchmarks/atsc3_tx.py                # 1 and 2 LDPC threads, 3 frames each
    python benchmarks/atsc3_tx.py --frames 5 --workers 2

For each preset: the whole transmitter (TS -> IQ) and the OFDM stages alone
(frequency interleaver, pilots, IFFT + guard intervals, bootstrap insertion) on frames already
built, both as samples produced per second of wall time over the sample rate. Results go to
``benchmarks/results/atsc3_tx.json``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from sdrcast.mac.ts import sample_stream
from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter
from sdrcast.phy.atsc3.config import PRESETS

ROOT = Path(__file__).resolve().parents[1]


def bench(name: str, frames: int, workers: int) -> dict:
    preset, _, tr = name.partition("+")
    cfg = dataclasses.replace(Atsc3Config.preset(preset), papr_reduction="TR") if tr else \
        Atsc3Config.preset(preset)
    tx = Atsc3Transmitter(cfg, workers=workers)
    rates = tx.payload_bitrates()
    per_frame = {i: int(r * tx.frame_samples_count / cfg.sample_rate / 8 / 188) + 1 for i, r in rates.items()}
    payload = {i: sample_stream(n * (frames + 1), seed=i) for i, n in per_frame.items()}
    tx.push({i: p[:per_frame[i] * 188] for i, p in payload.items()})  # compile, untimed
    t0 = time.perf_counter()
    iq = tx.push({i: p[per_frame[i] * 188:] for i, p in payload.items()})
    t_all = time.perf_counter() - t0
    tx2 = Atsc3Transmitter(cfg, workers=workers)
    tx2.push({i: p[:per_frame[i] * 188 * 2] for i, p in payload.items()})
    for e in tx2.plps.values():
        e.pad(frames * e.cfg.fec_blocks, end=True)
    framed = [tx2.frame_cells() for _ in range(frames)]
    t0 = time.perf_counter()
    samples = sum(tx2.frame_samples(f).size for f in framed)
    t_ofdm = time.perf_counter() - t0
    return {"preset": name, "workers": workers, "frames": iq.size // tx.frame_samples_count,
            "sample_rate": cfg.sample_rate, "payload_mbps": {str(k): v / 1e6 for k, v in rates.items()},
            "tx_x_real_time": iq.size / cfg.sample_rate / t_all,
            "ofdm_stages_x_real_time": samples / cfg.sample_rate / t_ofdm}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=3)
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "atsc3_tx.json"))
    args = ap.parse_args()
    rows = []
    for name in (*PRESETS, "fixed_16k_256nuc+TR"):
        for w in args.workers:
            r = bench(name, args.frames, w)
            rows.append(r)
            total = sum(r["payload_mbps"].values())
            print(f"{name:24s} {w} thread(s): {total:6.2f} Mbit/s  TX {r['tx_x_real_time']:5.2f}x  "
                  f"OFDM stages {r['ofdm_stages_x_real_time']:5.2f}x real time", flush=True)
    Path(args.out).write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "results": rows},
                                         indent=1))


if __name__ == "__main__":
    main()
