"""FeMBMS transmitter speed: x real time of FembmsTransmitter at full load (every MBSFN subframe
carrying MTCH data) for the presets at 5, 10 and 20 MHz, on the kernel pool's 2 threads; the
turbo decoder's Mbps at K = 6144 (6 iterations, one thread) beside it. Results with the CPU
model to benchmarks/results/fembms_tx.json.

    python benchmarks/fembms_tx.py [--seconds 1.0]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import machine
import numpy as np

from sdrcast.mac.ip import udp_datagram
from sdrcast.phy.fembms.config import FembmsConfig
from sdrcast.phy.fembms.transmitter import FembmsTransmitter

OUT = Path(__file__).with_name("results")
PRESETS = ("5mhz_1k25_mcs9", "5mhz_1k25_mcs20", "10mhz_1k25_mcs16", "20mhz_7k5_mcs20")


def tx_speed(preset: str, seconds: float) -> dict:
    cfg = FembmsConfig.preset(preset)
    tx = FembmsTransmitter(cfg)
    tx.subframes(40)  # compile and fill caches
    capacity = sum(tx.scheduler.tbs) * 1000  # bytes per second at full load
    n = int(1.2 * capacity * seconds / 1228)
    packets = [(cfg.sessions[i % len(cfg.sessions)].lcid,
                udp_datagram(bytes(1200), ("10.0.0.1", 4000), ("239.255.0.1", 5000), ident=i & 0xFFFF))
               for i in range(n)]
    tx._queue(packets)
    sub = int(seconds * 1000)
    t = time.perf_counter()
    iq = tx.subframes(sub)
    dt = time.perf_counter() - t
    return {"preset": preset, "bandwidth_mhz": cfg.bandwidth_mhz, "numerology": cfg.numerology,
            "mcs": cfg.pmchs[0].data_mcs, "sample_rate": cfg.rate, "subframes": sub,
            "seconds": round(dt, 3), "x_real_time": round(iq.size / cfg.rate / dt, 2),
            "payload_mbps": round(sum(tx.scheduler.tbs) * 8 * 1000 / 1e6, 2),
            "data_subframes": tx.subframes_sent["data"]}


def turbo_speed() -> dict:
    from sdrcast.phy.fec.turbo import TurboCode

    code = TurboCode.lte(6144)
    rng = np.random.default_rng(0)
    llr = (rng.standard_normal((3, 6148)) * 3 + 2).astype(np.float32)
    code.decode(llr, 6)
    t = time.perf_counter()
    for _ in range(20):
        code.decode(llr, 6)
    dt = (time.perf_counter() - t) / 20
    return {"turbo_decoder_K6144_6it_mbps_per_core": round(6144 / dt / 1e6, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=1.0, help="signal seconds per preset")
    args = ap.parse_args()
    out = {"cpu": machine.cpu(), "date": time.strftime("%Y-%m-%d %H:%M"), **turbo_speed(),
           "tx": [tx_speed(p, args.seconds) for p in PRESETS]}
    print(f"CPU: {machine.describe()}")
    print(f"turbo decoder K=6144, 6 iterations: {out['turbo_decoder_K6144_6it_mbps_per_core']} Mbps/core")
    for r in out["tx"]:
        print(f"{r['preset']:18s} {r['payload_mbps']:6.2f} Mbit/s  {r['x_real_time']:5.2f}x real time")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fembms_tx.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
