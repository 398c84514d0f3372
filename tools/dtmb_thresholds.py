"""Threshold table and FER plot from ``sdrcast sweep dtmb`` result folders.

    python tools/dtmb_thresholds.py OUT.png DIR [DIR ...]

Each DIR holds a sweep.json; the curve is labelled with the folder name. Prints a markdown table:
per sweep, the lowest SNR from which every measured point has FER <= 1e-2.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from sdrcast.analysis.plots import fer_curves


def threshold(rows: list[dict], fer: float = 1e-2) -> float | None:
    ok = None
    for r in sorted(rows, key=lambda r: -r["snr_db"]):
        if r["fer"] > fer:
            break
        ok = r["snr_db"]
    return ok


def main() -> None:
    out, dirs = Path(sys.argv[1]), [Path(d) for d in sys.argv[2:]]
    curves = {}
    print("| sweep | FER <= 1e-2 from (dB) | frames per point |\n|---|---|---|")
    for d in dirs:
        rows = json.loads((d / "sweep.json").read_text())["results"]
        curves[d.name] = rows
        print(f"| {d.name} | {threshold(rows)} | {max(r['frames'] for r in rows)} |")
    fer_curves(curves, out, "DTMB, sdrcast receiver with no configuration")


if __name__ == "__main__":
    main()
