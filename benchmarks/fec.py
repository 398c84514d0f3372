"""FEC throughput and error-rate benchmark; results to benchmarks/results/fec.json (+ PNG curves).

LDPC and BCH (ATSC 3.0, DTMB) and the LTE codes of FeMBMS: the turbo code (encoder; decoder at
K = 6144 with 6 iterations, no early stop, and with CRC early stop at Es/N0 -3 dB for rate 1/3)
and the tail-biting convolutional code (BCH/DCI sizes).

    python benchmarks/fec.py --quick        # throughput only, under a minute
    python benchmarks/fec.py                # + FER vs Eb/N0 curves (min-sum float/int8 vs SPA)

Throughput is information bits per second on one core (one thread), BPSK/AWGN LLRs:
"fixed10" runs exactly 10 iterations; "early" stops on a zero syndrome at the Eb/N0 given
(about 1 dB above the code's waterfall).
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from sdrcast.phy.fec import BchCode, LdpcCode

OUT = Path(__file__).with_name("results")
# (label, constructor args, Eb/N0 in dB about 1 dB above the waterfall, for early termination)
CODES = [("ATSC3 64800 10/15", ("atsc3", 64800, "10/15"), 3.2),
         ("ATSC3 64800 4/15", ("atsc3", 64800, "4/15"), 1.5),
         ("ATSC3 16200 8/15", ("atsc3", 16200, "8/15"), 3.0),
         ("DTMB 0.6", ("dtmb", None, 0.6), 3.2),
         ("DTMB 0.8", ("dtmb", None, 0.8), 4.2)]
CURVES = [("ATSC3 64800 4/15", ("atsc3", 64800, "4/15"), np.arange(-0.6, 0.61, 0.2)),
          ("ATSC3 64800 8/15", ("atsc3", 64800, "8/15"), np.arange(0.8, 2.01, 0.2)),
          ("ATSC3 64800 12/15", ("atsc3", 64800, "12/15"), np.arange(2.0, 3.21, 0.2)),
          ("DTMB 0.4", ("dtmb", None, 0.4), np.arange(1.0, 2.61, 0.2)),
          ("DTMB 0.6", ("dtmb", None, 0.6), np.arange(1.4, 2.81, 0.2)),
          ("DTMB 0.8", ("dtmb", None, 0.8), np.arange(2.4, 3.61, 0.2))]


def code_of(std, n, rate):
    return LdpcCode.atsc3(n, rate) if std == "atsc3" else LdpcCode.dtmb(rate)


def noisy_llr(code, info, ebn0_db, rng):
    cw = code.encode(info)
    sigma = np.sqrt(1 / (2 * code.rate * 10 ** (ebn0_db / 10)))
    y = 1 - 2 * cw.astype(np.float32) + sigma * rng.standard_normal(cw.shape).astype(np.float32)
    return (2 * y / sigma**2).astype(np.float32)


def timed(fn, repeat=2):
    fn()
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def throughput(frames: int) -> list[dict]:
    rows = []
    rng = np.random.default_rng(0)
    for label, args, ebn0 in CODES:
        code = code_of(*args)
        info = rng.integers(0, 2, (frames, code.k), dtype=np.uint8)
        llr = noisy_llr(code, info, ebn0, rng)
        row = {"code": label, "n": code.n, "k": code.k, "frames": frames, "ebn0_db": ebn0,
               "encoder_mbps": frames * code.k / timed(lambda: code.encode(info)) / 1e6}
        for prec, batch in (("float32", 16), ("int8", 64)):
            for mode, kw in (("fixed10", {"iterations": 10, "early_stop": False}),
                             ("early", {"iterations": 50, "early_stop": True})):
                dt = timed(lambda: code.decode(llr, precision=prec, batch=batch, **kw), 1)
                _, rep = code.decode(llr, precision=prec, batch=batch, **kw)
                row[f"decoder_{prec}_{mode}_mbps"] = frames * code.k / dt / 1e6
                if mode == "early":
                    row[f"decoder_{prec}_mean_iterations"] = float(rep.iterations.mean())
            row[f"batch_{prec}"] = batch
        rows.append(row)
        print(json.dumps(row))
    for n, rate in ((64800, "10/15"), (16200, "8/15")):
        bch = BchCode.atsc3(n, rate)
        msg = rng.integers(0, 2, (frames, bch.k), dtype=np.uint8)
        cw = bch.encode(msg)
        noisy = cw.copy()
        noisy[:, :12] ^= 1
        rows.append({"code": f"ATSC3 BCH {n} {rate}", "frames": frames,
                     "encoder_mbps": frames * bch.k / timed(lambda: bch.encode(msg)) / 1e6,
                     "decoder_clean_mbps": frames * bch.k / timed(lambda: bch.decode(cw)) / 1e6,
                     "decoder_12_errors_mbps":
                         frames * bch.k / timed(lambda: bch.decode(noisy)) / 1e6})
        print(json.dumps(rows[-1]))
    return rows


def lte_throughput(blocks: int) -> list[dict]:
    """Turbo encoder/decoder and TBCC, information bits per second on one thread."""
    from sdrcast.phy.fec.convolutional import ConvCode
    from sdrcast.phy.fec.turbo import TurboCode

    rng = np.random.default_rng(2)
    rows = []
    for K in (6144, 1024, 40):
        code = TurboCode.lte(K)
        c = rng.integers(0, 2, (blocks, K), np.uint8)
        d = np.stack([code.encode(x) for x in c])
        n0 = 10 ** (3 / 10)  # Es/N0 -3 dB
        llr = (4 * (1 - 2.0 * d + np.sqrt(n0 / 2) * rng.standard_normal(d.shape)) / n0).astype(np.float32)
        row = {"code": f"LTE turbo K={K}", "blocks": blocks, "windows": code.windows,
               "encoder_mbps": blocks * K / timed(lambda: [code.encode(x) for x in c]) / 1e6}
        row["decoder_6it_mbps"] = blocks * K / timed(lambda: [code.decode(x, 6) for x in llr], 1) / 1e6
        row["decoder_early_mbps"] = blocks * K / timed(lambda: [code.decode(x, 8, "24B") for x in llr],
                                                         1) / 1e6
        row["decoder_early_mean_iterations"] = float(np.mean([code.decode(x, 8, "24B")[1] for x in llr]))
        rows.append(row)
        print(json.dumps(row))
    conv = ConvCode.lte()
    c = rng.integers(0, 2, (blocks, 40), np.uint8)
    d = np.stack([conv.encode(x) for x in c])
    llr = (4 * (1 - 2.0 * d)).astype(np.float32)
    rows.append({"code": "LTE TBCC K=40", "blocks": blocks,
                 "encoder_mbps": blocks * 40 / timed(lambda: [conv.encode(x) for x in c]) / 1e6,
                 "decoder_mbps": blocks * 40 / timed(lambda: [conv.decode(x) for x in llr], 1) / 1e6})
    print(json.dumps(rows[-1]))
    return rows


def fer_curves(max_frames: int, min_errors: int, spa_frames: int) -> list[dict]:
    rows = []
    rng = np.random.default_rng(1)
    for label, args, grid in CURVES:
        code = code_of(*args)
        curve = {"code": label, "ebn0_db": grid.tolist(), "float32": [], "int8": [], "spa": []}
        for ebn0 in grid:
            counts = {"float32": [0, 0], "int8": [0, 0], "spa": [0, 0]}
            while counts["float32"][1] < max_frames and min(
                    counts["float32"][0], counts["int8"][0]) < min_errors:
                info = rng.integers(0, 2, (64, code.k), dtype=np.uint8)
                llr = noisy_llr(code, info, ebn0, rng)
                for prec in ("float32", "int8"):
                    dec, _ = code.decode(llr, iterations=50, precision=prec)
                    counts[prec][0] += int(np.any(dec != info, axis=1).sum())
                    counts[prec][1] += info.shape[0]
                if counts["spa"][1] < spa_frames:
                    m = min(8, spa_frames - counts["spa"][1])
                    dec, _ = code.decode_spa(llr[:m], iterations=50)
                    counts["spa"][0] += int(np.any(dec != info[:m], axis=1).sum())
                    counts["spa"][1] += m
            for key, (e, n) in counts.items():
                curve[key].append({"errors": e, "frames": n, "fer": e / n if n else None})
            print(label, f"{ebn0:.1f} dB", {k: v[0] / max(v[1], 1) for k, v in counts.items()},
                  flush=True)
        rows.append(curve)
    return rows


def plot(curves: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    for ax, family in zip(axes, ("ATSC3", "DTMB"), strict=True):
        for c in (c for c in curves if c["code"].startswith(family)):
            for key, style in (("float32", "-o"), ("int8", "--s"), ("spa", ":^")):
                pts = [(x, p["fer"]) for x, p in zip(c["ebn0_db"], c[key], strict=True)
                       if p["fer"]]
                if pts:
                    ax.semilogy(*zip(*pts, strict=True), style, ms=3,
                                label=f"{c['code']} {key}")
        ax.set_xlabel("Eb/N0 (dB), BPSK/AWGN")
        ax.set_title(f"{family} LDPC, 50 iterations")
        ax.grid(which="both", alpha=0.3)
        ax.legend(fontsize=6)
    axes[0].set_ylabel("FER")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="throughput only, few frames")
    ap.add_argument("--frames", type=int, default=None, help="frames per throughput run")
    ap.add_argument("--max-frames", type=int, default=2000, help="FER: frames per point at most")
    ap.add_argument("--min-errors", type=int, default=50, help="FER: stop a point at N errors")
    ap.add_argument("--spa-frames", type=int, default=64, help="FER: SPA frames per point")
    args = ap.parse_args()
    frames = args.frames or (64 if args.quick else 256)
    from machine import cpu

    out = {"machine": platform.machine(), "cpu": cpu(), "python": platform.python_version(),
           "date": time.strftime("%Y-%m-%d"), "threads": 1, "quick": args.quick,
           "throughput": throughput(frames), "lte": lte_throughput(16 if args.quick else 64)}
    if not args.quick:
        out["fer_curves"] = fer_curves(args.max_frames, args.min_errors, args.spa_frames)
        plot(out["fer_curves"], OUT / "fec_fer.png")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fec.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out["throughput"], indent=1))


if __name__ == "__main__":
    main()
