"""DTMB TX and RX speed, x real time, for the seven recommended modes (GB 20600-2006).

    python benchmarks/dtmb.py              # all presets, 2 LDPC threads
    python benchmarks/dtmb.py --modes mode6 --frames 200 --workers 1

TX: TS -> IQ for ``--frames`` frames, the transmitter called 50 frames at a time, and the TX
block of ``sdrcast tx dtmb`` through a flowgraph (with the interleaver flush). RX: the
receiver with no configuration, in AWGN about 2 dB above the mode's threshold, timed in
steady state until every frame is decoded: the deinterleaver is filled
first (untimed), then ``--frames`` frames are pushed. RX busy time is given per thread:
tracking + equalisation (``_track``, the caller's thread) and decoding (deinterleave, demap,
LDPC on ``--workers`` threads, BCH; its own thread); the two overlap. Results go to
``benchmarks/results/dtmb.json``.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import machine
import numpy as np

from sdrcast.channel.awgn import Awgn
from sdrcast.mac.ts import sample_stream
from sdrcast.phy.dtmb import PRESETS, DtmbReceiver, DtmbTransmitter
from sdrcast.phy.dtmb.config import SYMBOL_RATE
from sdrcast.phy.dtmb.stages import latency_frames

# about 2 dB above each mode's AWGN threshold (docs/dtmb.md), where LDPC needs a few iterations
SNR_DB = {"mode1": 9, "mode2": 8, "mode3": 11, "mode4": 14, "mode5": 16, "mode6": 16, "mode7": 17}


def bench(name: str, frames: int, workers: int) -> dict:
    cfg = PRESETS[name]
    fill = latency_frames(cfg)
    total = fill + frames + 1
    ts = sample_stream(total * cfg.ts_bytes_per_frame // 188, seed=1)
    tx = DtmbTransmitter(cfg, workers=workers)
    chunk = 50 * cfg.ts_bytes_per_frame  # streamed as the TX flowgraph does, 50 frames a call
    parts = [tx.push(ts[:chunk])]  # first call compiles; untimed
    t0 = time.perf_counter()
    parts += [tx.push(ts[i:i + chunk]) for i in range(chunk, ts.size, chunk)]
    t_tx = time.perf_counter() - t0
    iq = np.concatenate(parts)
    tx_samples = iq.size - parts[0].size
    y = Awgn(SNR_DB[name], seed=2)(iq)
    rx = DtmbReceiver(workers=workers)
    rx.push(y[:(fill + 1) * cfg.frame_symbols])
    spent = {"track": 0.0, "decode": 0.0}

    def timed(fn, key):
        def wrap(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[key] += time.perf_counter() - t
        return wrap

    rx._track = timed(rx._track, "track")
    rx.decoder.decode = timed(rx.decoder.decode, "decode")
    t0 = time.perf_counter()  # until every frame is decoded (push waits for a full queue)
    out = np.concatenate([rx.push(y[(fill + 1) * cfg.frame_symbols:]), rx.flush()])
    t_rx = time.perf_counter() - t0
    steady = y.size - (fill + 1) * cfg.frame_symbols
    rep = rx.report()
    return {"mode": name, "config": cfg.__dict__, "payload_mbps": cfg.payload_bitrate / 1e6,
            "frames": frames, "workers": workers,
            "tx_x_real_time": tx_samples / SYMBOL_RATE / t_tx,
            "rx_x_real_time": steady / SYMBOL_RATE / t_rx,
            "rx_seconds": {"wall": t_rx, **spent},
            "ts_bytes_out": int(out.size), "ldpc_failures": rep["ldpc_failures"],
            "mean_ldpc_iterations": float(np.mean(rep["ldpc_iterations"] or [0]))}


def bench_block(name: str, frames: int) -> float:
    """``sdrcast tx dtmb``'s TX block through a flowgraph (batching, pipelining and the
    interleaver flush included), x real time; the best of two runs (the first compiles)."""
    from sdrcast.flowgraphs.dtmb_tx import DtmbTxBlock
    from sdrcast.runtime import Flowgraph, VectorSource
    from sdrcast.runtime.block import Sink

    class Null(Sink):
        samples = 0

        def consume(self, chunk):
            self.samples += len(chunk)

    cfg = PRESETS[name]
    ts = sample_stream(frames * cfg.ts_bytes_per_frame // 188, seed=1)
    best = 0.0
    for _ in range(2):
        snk = Null("null")
        t0 = time.perf_counter()
        Flowgraph().connect(VectorSource(ts, 348 * 188), DtmbTxBlock(cfg), snk).run()
        best = max(best, snk.samples / cfg.sample_rate / (time.perf_counter() - t0))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modes", default=",".join(PRESETS), help="comma list of presets")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "dtmb.json"))
    args = ap.parse_args()
    rows = []
    print(f"CPU: {machine.describe()}")
    for name in args.modes.split(","):
        r = bench(name, args.frames, args.workers)
        r["tx_block_x_real_time"] = bench_block(name, args.frames)
        rows.append(r)
        s = r["rx_seconds"]
        print(f"{name}: {r['payload_mbps']:.3f} Mbit/s  TX {r['tx_x_real_time']:.2f}x (block "
              f"{r['tx_block_x_real_time']:.2f}x)  RX "
              f"{r['rx_x_real_time']:.2f}x real time ({s['wall']:.2f} s: track {s['track']:.2f} s "
              f"beside decode {s['decode']:.2f} s; LDPC failures {r['ldpc_failures']}, "
              f"{r['mean_ldpc_iterations']:.1f} iterations)", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "cpu": machine.cpu(),
                                          "results": rows}, indent=1))


if __name__ == "__main__":
    main()
