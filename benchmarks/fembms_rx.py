"""FeMBMS receiver speed: x real time of FembmsReceiver (no configuration given) on a carrier
fully loaded with UDP packets through AWGN a few dB above threshold, at 5, 10 and 20 MHz, on the
kernel pool's 2 threads. Results with the CPU model to benchmarks/results/fembms_rx.json.

    python benchmarks/fembms_rx.py
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import machine

from sdrcast.channel.awgn import Awgn
from sdrcast.mac.ip import udp_datagram
from sdrcast.phy.fembms.config import FembmsConfig
from sdrcast.phy.fembms.receiver import FembmsReceiver
from sdrcast.phy.fembms.transmitter import FembmsTransmitter

OUT = Path(__file__).with_name("results")
CASES = (("5mhz_1k25_mcs9", 12.0), ("5mhz_1k25_mcs20", 22.0), ("10mhz_1k25_mcs16", 20.0),
         ("20mhz_7k5_mcs20", 24.0))


def rx_speed(preset: str, snr_db: float) -> dict:
    cfg = FembmsConfig.preset(preset)
    tx = FembmsTransmitter(cfg)
    n = int(sum(tx.scheduler.tbs) * 0.6 * 1000 / 1028)  # about 0.6 s of full load
    packets = [(cfg.sessions[i % len(cfg.sessions)].lcid,
                udp_datagram(bytes(1000), ("10.0.0.1", 4000), ("239.255.0.1", 5000), ident=i & 0xFFFF))
               for i in range(n)]
    iq = Awgn(snr_db, seed=1)(tx.modulate(packets))
    FembmsReceiver(cfg.rate).demodulate(iq[:round(0.08 * cfg.rate)])  # compile
    t = time.perf_counter()
    got, rep = FembmsReceiver(cfg.rate).demodulate(iq)
    dt = time.perf_counter() - t
    return {"preset": preset, "snr_db": snr_db, "seconds_of_signal": round(iq.size / cfg.rate, 3),
            "x_real_time": round(iq.size / cfg.rate / dt, 2), "packets": len(got), "packets_sent": n,
            "mch_bler": rep["fec"]["mch"]["bler"],
            "turbo_iterations_mean": rep["fec"]["turbo_iterations_mean"]}


def main() -> None:
    out = {"cpu": machine.cpu(), "date": time.strftime("%Y-%m-%d %H:%M"), "rx": [rx_speed(*c) for c in CASES]}
    print(f"CPU: {machine.describe()}")
    for r in out["rx"]:
        print(f"{r['preset']:18s} {r['snr_db']:5.1f} dB  {r['x_real_time']:5.2f}x real time, "
              f"{r['packets']}/{r['packets_sent']} packets")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fembms_rx.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
