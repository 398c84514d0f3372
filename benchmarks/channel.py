"""Channel emulator throughput on one core; writes benchmarks/results/channel.json.

    python benchmarks/channel.py [--samples N]
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from sdrcast.channel.awgn import Awgn
from sdrcast.channel.emulator import ChannelConfig, ChannelEmulator
from sdrcast.channel.fading import TdlChannel
from sdrcast.channel.impairments import PhaseNoise, SampleClockOffset

OUT = Path(__file__).with_name("results") / "channel.json"


def msps(stage, x: np.ndarray, chunk: int = 1 << 16) -> float:
    stage(x[:chunk])
    t = time.perf_counter()
    for i in range(0, x.size, chunk):
        stage(x[i:i + chunk])
    return x.size / (time.perf_counter() - t) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--samples", type=int, default=4_000_000)
    n = ap.parse_args().samples
    rng = np.random.default_rng(0)
    x = ((rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2)).astype(np.complex64)
    res = {
        "awgn_only": msps(Awgn(10.0), x),
        "tu6_30kmh_7.56Msps_fractional_delays": msps(
            TdlChannel("tu6", 7.56e6, speed_kmh=30, carrier_hz=600e6), x),
        "tu6_30kmh_10Msps_integer_delays": msps(
            TdlChannel("tu6", 10e6, speed_kmh=30, carrier_hz=600e6), x),
        "etu_70Hz_30.72Msps": msps(TdlChannel("etu", 30.72e6, doppler=70), x),
        "sco_20ppm": msps(SampleClockOffset(20.0), x),
        "phase_noise_wiener": msps(PhaseNoise(7.56e6, linewidth_hz=100), x),
        "full_chain_tu6_awgn_cfo_sco": msps(ChannelEmulator(ChannelConfig(
            sample_rate=7.56e6, snr_db=20, profile="tu6", speed_kmh=30, carrier_hz=600e6,
            cfo_hz=20e3, sco_ppm=20)), x),
    }
    out = {"machine": platform.machine(), "date": time.strftime("%Y-%m-%d"), "threads": 1,
           "unit": "Msps", "samples": n, "results": res}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
