"""SNR sweep with a plot: the frame error rate of a link against the SNR, through AWGN or a
mobile channel, on a pool of local processes (or a Dask cluster: executor_for(cluster=...)).
A rerun into the same folder resumes where the last one stopped.

    .venv/bin/python examples/snr_sweep.py --link fembms --snr 4:10:1 --channel tu6 --doppler 35 --out sweep
    .venv/bin/python examples/snr_sweep.py --link reference-ldpc --snr 6:12:1 --out ldpc

The same as ``sdrcast sweep``, written out: the parameters, the sweep, the plot.
"""
import argparse
from pathlib import Path

from sdrcast.analysis import plots
from sdrcast.analysis.sweep import executor_for, parse_range, run_sweep

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--link", default="fembms", help="reference, reference-ldpc, dtmb or fembms")
ap.add_argument("--snr", default="4:10:1", help="START:STOP:STEP (dB)")
ap.add_argument("--channel", default="awgn", help="awgn or a profile (tu6 ra6 epa eva etu ...)")
ap.add_argument("--doppler", type=float, default=0.0, help="maximum Doppler (Hz)")
ap.add_argument("--frames", type=int, default=300, help="frames per SNR at most")
ap.add_argument("--workers", type=int, default=2, help="local processes")
ap.add_argument("--out", default="sweep", help="results folder")
args = ap.parse_args()

params = {"link": args.link, "snrs": parse_range(args.snr), "frames": args.frames, "min_errors": 50,
          "batch_frames": min(args.frames, 300), "seed": 1, "order": 16,
          "channel": {} if args.channel == "awgn" else {"profile": args.channel, "doppler_hz": args.doppler}}
with executor_for(args.workers) as pool:
    rows = run_sweep(params, args.out, pool)
for r in rows:
    print(f"{r['snr_db']:6.2f} dB  FER {r['fer']:.3e} ({r['frame_errors']}/{r['frames']})  "
          f"BER {r['ber']:.3e}")
title = f"{args.link}, {args.channel}" + (f" {args.doppler:g} Hz" if args.doppler else "")
path = plots.error_rates(rows, Path(args.out) / "error_rates.png", title=title)
print(f"plot: {path}")
