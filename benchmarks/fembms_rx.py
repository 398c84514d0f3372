"""FeMBMS receiver speed: x real time of FembmsReceiver (no configuration given) on a carrier
fully loaded with UDP packets through AWGN a few dB above threshold, at 5, 10 and 20 MHz, on the
kernel pool's 2 threads, the input pushed 10 ms at a time as a live source gives it. Two figures:
from cold (the cell search included) and steady (from the first push after the cell is found).
Results with the CPU model to benchmarks/results/fembms_rx.json.

    python benchmarks/fembms_rx.py [--seconds 1.5]
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import machine
import numpy as np

from sdrcast.channel.awgn import Awgn
from sdrcast.mac.ip import udp_datagram
from sdrcast.phy.fembms.config import FembmsConfig
from sdrcast.phy.fembms.receiver import FembmsReceiver
from sdrcast.phy.fembms.transmitter import FembmsTransmitter

OUT = Path(__file__).with_name("results")
CASES = (("5mhz_1k25_mcs9", 12.0), ("5mhz_1k25_mcs20", 22.0), ("10mhz_1k25_mcs16", 20.0),
         ("20mhz_7k5_mcs20", 24.0))


def rx_speed(preset: str, snr_db: float, seconds: float) -> dict:
    cfg = FembmsConfig.preset(preset)
    tx = FembmsTransmitter(cfg)
    n = int(sum(tx.scheduler.tbs) * seconds * 1000 / 1028)  # about `seconds` of full load
    packets = [(cfg.sessions[i % len(cfg.sessions)].lcid,
                udp_datagram(bytes(1000), ("10.0.0.1", 4000), ("239.255.0.1", 5000), ident=i & 0xFFFF))
               for i in range(n)]
    # pushed 100 at a time, as a live source gives them (all at once would overflow the
    # transmitter's bounded queues, which drop the oldest)
    iq = Awgn(snr_db, seed=1)(np.concatenate([tx.push(packets[i:i + 100]) for i in range(0, n, 100)]
                                            + [tx.flush()]))
    n -= tx.report()["packets_dropped"]
    FembmsReceiver(cfg.rate).demodulate(iq[:round(0.08 * cfg.rate)])  # compile
    rx, got, chunk = FembmsReceiver(cfg.rate), [], round(0.01 * cfg.rate)
    t0 = time.perf_counter()
    steady_from = None
    for at in range(0, iq.size, chunk):
        got += rx.push(iq[at:at + chunk])
        if steady_from is None and rx.synced_once:
            steady_from, t_sync = at + chunk, time.perf_counter()
    got += rx.flush()
    t1 = time.perf_counter()
    rep = rx.report()
    return {"preset": preset, "snr_db": snr_db, "seconds_of_signal": round(iq.size / cfg.rate, 3),
            "x_real_time": round(iq.size / cfg.rate / (t1 - t0), 2),
            "x_real_time_steady": round((iq.size - steady_from) / cfg.rate / (t1 - t_sync), 2),
            "packets": len(got), "packets_sent": n,
            "mch_bler": rep["fec"]["mch"]["bler"],
            "turbo_iterations_mean": rep["fec"]["turbo_iterations_mean"]}


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=1.5, help="seconds of fully loaded signal per case")
    args = ap.parse_args()
    out = {"cpu": machine.cpu(), "date": time.strftime("%Y-%m-%d %H:%M"),
           "rx": [rx_speed(*c, args.seconds) for c in CASES]}
    print(f"CPU: {machine.describe()}")
    for r in out["rx"]:
        print(f"{r['preset']:18s} {r['snr_db']:5.1f} dB  {r['x_real_time']:5.2f}x real time from cold, "
              f"{r['x_real_time_steady']:5.2f}x steady, {r['packets']}/{r['packets_sent']} packets")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fembms_rx.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
