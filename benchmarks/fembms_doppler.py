"""FeMBMS: the speed each numerology survives. TU-6 at 626 MHz, growing speeds, QPSK (MCS 9)
well above its threshold (25 dB), unknown start: the MCH block error rate and the packets
delivered by FembmsReceiver with no configuration. A numerology survives a speed while the
BLER stays at or below 1 % at it and every lower speed tried. Results with the CPU model to
benchmarks/results/fembms_doppler.json.

    python benchmarks/fembms_doppler.py [--seconds 0.4]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import machine
import numpy as np

from sdrcast.channel.emulator import ChannelConfig, ChannelEmulator
from sdrcast.mac.ip import udp_datagram
from sdrcast.phy.fembms.config import FembmsConfig, PmchConfig, SessionConfig
from sdrcast.phy.fembms.receiver import FembmsReceiver
from sdrcast.phy.fembms.transmitter import FembmsTransmitter

OUT = Path(__file__).with_name("results")
CARRIER_HZ = 626e6
CASES = ((5.0, "1.25"), (10.0, "7.5"), (3.0, "15e"))  # (MHz, numerology)
SPEEDS_KMH = (30, 60, 120, 250, 500)


def point(bandwidth: float, numerology: str, speed: float, seconds: float) -> dict:
    cfg = FembmsConfig(bandwidth_mhz=bandwidth, numerology=numerology, pci=17, area_id=3,
                       pmchs=(PmchConfig(data_mcs=9, sessions=(SessionConfig(lcid=1),)),))
    tx = FembmsTransmitter(cfg)
    n = int(sum(tx.scheduler.tbs) * seconds * 1000 / 528)  # about `seconds` of full load
    packets = [udp_datagram(i.to_bytes(4, "big") + bytes(496), ("10.0.0.1", 4000), ("239.1.1.1", 5000),
                            ident=i & 0xFFFF) for i in range(n)]
    iq = np.concatenate([tx.push([(1, p) for p in packets[i:i + 50]]) for i in range(0, n, 50)]
                        + [tx.flush()])
    y = ChannelEmulator(ChannelConfig(sample_rate=cfg.rate, snr_db=25.0, profile="tu6", speed_kmh=speed,
                                      carrier_hz=CARRIER_HZ, seed=3))(
        np.concatenate([np.zeros(5000, np.complex64), iq]))
    got, rep = FembmsReceiver(cfg.rate).demodulate(y)
    mch = rep["fec"]["mch"]
    return {"bandwidth_mhz": bandwidth, "numerology": numerology, "speed_kmh": speed,
            "doppler_hz": round(speed / 3.6 * CARRIER_HZ / 299792458, 1),
            "mch_bler": mch["bler"], "mch_blocks": mch["blocks"], "packets": len(got),
            "packets_sent": n - tx.report()["packets_dropped"], "mer_db": rep["mer_db"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=0.4, help="seconds of fully loaded signal per point")
    args = ap.parse_args()
    rows = [point(bw, num, v, args.seconds) for bw, num in CASES for v in SPEEDS_KMH]
    print(f"CPU: {machine.describe()}")
    for r in rows:
        print(f"{r['bandwidth_mhz']:4.1f} MHz {r['numerology']:>5s} kHz {r['speed_kmh']:4d} km/h "
              f"({r['doppler_hz']:6.1f} Hz): MCH BLER {r['mch_bler']:.3f} of {r['mch_blocks']}, "
              f"{r['packets']}/{r['packets_sent']} packets, MER {r['mer_db']} dB")
    for _, num in CASES:
        passed = [r["mch_bler"] is not None and r["mch_bler"] <= 0.01 for r in rows if r["numerology"] == num]
        n = passed.index(False) if False in passed else len(passed)  # every speed up to it passed
        print(f"{num} kHz: BLER <= 1 % at every speed up to "
              f"{SPEEDS_KMH[n - 1] if n else 'none (from ' + str(SPEEDS_KMH[0]) + ')'} km/h")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fembms_doppler.json").write_text(json.dumps(
        {"cpu": machine.cpu(), "date": time.strftime("%Y-%m-%d %H:%M"), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
