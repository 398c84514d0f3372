"""The FeMBMS implementation loss: the PMCH's coding and modulation alone (TB -> turbo -> rate
matching -> scrambling -> QPSK..64QAM -> AWGN -> max-log demapping -> turbo decoding, no OFDM,
no channel estimation, no synchronisation) against SNR, for the presets' MCS on 5 MHz 1.25 kHz
subframes — the curve to set beside `sdrcast sweep fembms` (Es/N0 per resource element in both).

    python benchmarks/fembms_coded.py [--blocks 200]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import machine
import numpy as np

from sdrcast.phy.fembms.pmch import Pmch

OUT = Path(__file__).with_name("results")
GRID = {9: np.arange(2.0, 7.01, 0.5), 20: np.arange(11.0, 16.01, 0.5)}


def fer(mcs: int, snr_db: float, blocks: int, rng: np.random.Generator) -> float:
    p = Pmch.cached("1.25", 25, 1, 1, mcs)
    nv = 10 ** (-snr_db / 10)
    errors = 0
    for _ in range(blocks):
        tb = rng.integers(0, 256, p.tbs // 8, np.uint8).tobytes()
        x = p.symbols(tb)
        y = x + np.sqrt(nv / 2) * (rng.standard_normal(x.size) + 1j * rng.standard_normal(x.size))
        got, ok, _ = p.decode(y.astype(np.complex64), nv, 8)
        errors += not (ok and got == tb)
    return errors / blocks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--blocks", type=int, default=200)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    out = {"cpu": machine.cpu(), "blocks": args.blocks, "curves": {}}
    for mcs, grid in GRID.items():
        curve = [(float(s), fer(mcs, s, args.blocks, rng)) for s in grid]
        out["curves"][mcs] = curve
        print(f"MCS {mcs}: " + ", ".join(f"{s:.1f} dB {f:.3f}" for s, f in curve))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fembms_coded.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
