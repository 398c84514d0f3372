"""Throughput of the generic kernels and the reference link; writes benchmarks/results/kernels.json.

    python benchmarks/kernels.py [--quick]
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from sdrcast.channel.awgn import Awgn
from sdrcast.phy.crc import CRC32
from sdrcast.phy.interleave import ConvolutionalInterleaver
from sdrcast.phy.mapping import Constellation
from sdrcast.phy.ofdm import modem
from sdrcast.phy.reference_link import ReferenceLink
from sdrcast.phy.resample import Resampler

OUT = Path(__file__).with_name("results") / "kernels.json"


def rate(fn, items: int, repeat: int) -> float:
    fn()  # compile / warm up
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return items * repeat / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    rep = 2 if ap.parse_args().quick else 10
    rng = np.random.default_rng(0)
    n = 1 << 20
    iq = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
    res = {}
    qam64 = Constellation.qam(64)
    bits = rng.integers(0, 2, 6 * n // 4, dtype=np.uint8)
    sym = qam64.map(bits)
    res["qam64_map_Msym_s"] = rate(lambda: qam64.map(bits), sym.size, rep) / 1e6
    res["qam64_demap_maxlog_Msym_s"] = rate(lambda: qam64.demap(sym, 0.1), sym.size, rep) / 1e6
    grid = iq[:32 * 8192].reshape(32, 8192)
    res["ofdm_mod_8k_Msps"] = rate(lambda: modem.modulate(grid, 1024), 32 * 9216, rep) / 1e6
    x = modem.modulate(grid, 1024)
    res["ofdm_demod_8k_Msps"] = rate(lambda: modem.demodulate(x, 8192, 1024), x.size, rep) / 1e6
    res["awgn_Msps"] = rate(lambda: Awgn(10.0)(iq), n, rep) / 1e6
    r = Resampler(9, 8)
    res["resample_9_8_Msps_in"] = rate(lambda: r(iq), n, rep) / 1e6
    il = ConvolutionalInterleaver(52, 240)
    res["conv_interleaver_Mitems_s"] = rate(lambda: il(iq), n, rep) / 1e6
    data = rng.integers(0, 256, n, dtype=np.uint8)
    res["crc32_MB_s"] = rate(lambda: CRC32(data), n, rep) / 1e6
    link = ReferenceLink()
    b = rng.integers(0, 2, 20 * link.cfg.bits_per_frame, dtype=np.uint8)
    y = link.modulate(b)
    res["reference_link_tx_x_rt"] = rate(lambda: link.modulate(b), y.size, rep) / link.cfg.sample_rate
    res["reference_link_rx_x_rt"] = rate(lambda: link.demodulate(y), y.size, rep) / link.cfg.sample_rate
    out = {"machine": platform.processor() or platform.machine(), "python": platform.python_version(),
           "date": time.strftime("%Y-%m-%d"), "results": res}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
