"""The demo: each available link through the channel emulator and back, with a summary and plots.

The generic OFDM + QAM reference link (bits -> modulator -> channel emulator -> demodulator, as
a streaming flowgraph, in AWGN and through TU-6 at 5 km/h), then each registered standard's
demo: DTMB, ATSC 3.0 and FeMBMS (IP packets through TU-6 at 60 km/h and back).
It writes ``summary.json`` and spectrum, constellation and channel-response PNGs into the
output folder.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from sdrcast.analysis import plots
from sdrcast.analysis.metrics import bit_errors, frame_errors, mer_db, occupied_bandwidth
from sdrcast.channel.emulator import ChannelConfig, ChannelEmulator
from sdrcast.phy.reference_link import ReferenceLink, ReferenceLinkConfig
from sdrcast.runtime import (
    Flowgraph,
    FrameAdapter,
    FrameBlock,
    Sink,
    VectorSink,
    VectorSource,
)
from sdrcast.standards import load, with_part


class ReferenceReceiver(Sink):
    """Demodulates whole frames of the reference link and keeps hard bits and cells."""

    def __init__(self, link: ReferenceLink):
        super().__init__("rx", link.cfg.sample_rate)
        self.link = link
        self.framer = FrameAdapter(link.cfg.samples_per_frame)
        self.bits: list[np.ndarray] = []
        self.cells: list[np.ndarray] = []

    def process(self, chunks):
        for frame in self.framer.process(chunks):
            llr, eq, _ = self.link.demodulate(frame.data)
            self.bits.append((llr < 0).astype(np.uint8))
            self.cells.append(eq)
        self.counters.update(self.framer.counters)
        yield from ()


def run_reference_link(out: Path, snr_db: float = 22.0, frames: int = 200, order: int = 16,
                       seed: int = 1, status: bool = False, profile: str | None = None,
                       speed_kmh: float = 0.0, carrier_hz: float = 600e6,
                       tag: str = "reference") -> dict:
    """Reference link TX -> channel emulator -> RX; returns the summary dict."""
    cfg = ReferenceLinkConfig(order=order)
    link = ReferenceLink(cfg)
    channel = ChannelEmulator(ChannelConfig(
        sample_rate=cfg.sample_rate, snr_db=snr_db, bandwidth=cfg.occupied_bandwidth,
        profile=profile, speed_kmh=speed_kmh if profile else None,
        carrier_hz=carrier_hz if profile else None, seed=seed))
    bits = np.random.default_rng(seed).integers(0, 2, frames * cfg.bits_per_frame, dtype=np.uint8)
    tx_tap = VectorSink("tx_tap")
    src = VectorSource(bits, 4 * cfg.bits_per_frame, name="bits")
    mod = FrameBlock(link.modulate, cfg.bits_per_frame, name="modulator",
                     sample_rate=cfg.sample_rate)
    chan = channel.block()
    rx = ReferenceReceiver(link)
    g = Flowgraph(status_interval=1.0 if status else None)
    g.connect(src, mod, chan, rx)
    g.connect(chan, tx_tap)
    t0 = time.perf_counter()
    stats = g.run()
    elapsed = time.perf_counter() - t0
    rx_bits = np.concatenate(rx.bits)
    cells = np.concatenate(rx.cells)
    ideal = link.qam.points[link.qam.decide(cells)]
    iq = tx_tap.result().data
    n_samples = frames * cfg.samples_per_frame
    where = f"{profile} {speed_kmh:g} km/h" if profile else "AWGN"
    summary = {
        "link": f"reference OFDM {cfg.order}QAM uncoded, {where}",
        "snr_db": snr_db, "frames": frames,
        "ber": bit_errors(bits, rx_bits),
        "fer": frame_errors(bits.reshape(frames, -1), rx_bits.reshape(frames, -1)),
        "mer_db": mer_db(cells, ideal),
        "payload_mbps": cfg.bit_rate / 1e6,
        "sample_rate": cfg.sample_rate,
        "occupied_bandwidth_hz": occupied_bandwidth(iq, cfg.sample_rate)["bandwidth_hz"],
        "elapsed_s": elapsed,
        "x_real_time": n_samples / cfg.sample_rate / elapsed,
        "flowgraph": stats,
    }
    out.mkdir(parents=True, exist_ok=True)
    plots.spectrum(iq[:1 << 18], cfg.sample_rate, out / f"{tag}_spectrum.png",
                   title=f"reference link, {where}")
    plots.constellation(cells, out / f"{tag}_constellation.png", summary["mer_db"],
                        title=f"reference {cfg.order}QAM @ {snr_db:g} dB, {where}")
    if channel.fading is not None:
        plots.channel_response(channel.fading, out / f"{tag}_channel.png", duration_s=0.5)
    return summary


def run_dtmb(out: Path, quick: bool = False, snr_db: float = 24.0, seed: int = 1) -> dict:
    """DTMB mode 6 (PN420, C=3780, 64QAM, 0.6, M=720) -> TU-6 at 30 km/h (586 MHz), CFO 20 kHz,
    SCO 20 ppm, AWGN -> DtmbReceiver with no configuration."""
    from sdrcast.mac.ts import sample_stream
    from sdrcast.phy.dtmb import PRESETS, DtmbReceiver, DtmbTransmitter
    from sdrcast.phy.dtmb.stages import latency_frames

    cfg = PRESETS["mode6"]
    frames = 10 if quick else 60
    warm = sample_stream(12 * cfg.ts_bytes_per_frame // 188)
    DtmbReceiver(config=cfg).demodulate(DtmbTransmitter(cfg).push(warm))  # compile kernels
    total = latency_frames(cfg) + frames + 1
    ts = sample_stream(total * cfg.ts_bytes_per_frame // 188, seed=seed)
    t0 = time.perf_counter()
    iq = DtmbTransmitter(cfg).push(ts)
    t_tx = time.perf_counter() - t0
    channel = ChannelConfig(sample_rate=7.56e6, snr_db=snr_db, profile="tu6", speed_kmh=30.0,
                            carrier_hz=586e6, cfo_hz=20e3, sco_ppm=20.0, seed=seed)
    emu = ChannelEmulator(channel)
    y = emu(np.concatenate([np.zeros(3000, np.complex64), iq]))
    rx = DtmbReceiver()
    t0 = time.perf_counter()
    got, rep = rx.demodulate(y)
    t_rx = time.perf_counter() - t0
    got = got[:frames * cfg.ts_bytes_per_frame]
    ref = ts[:got.size]  # the receiver syncs to the first frame sent
    n = got.size // cfg.ts_bytes_per_frame
    dur = iq.size / 7.56e6
    pk = got.reshape(-1, 188) != ref.reshape(-1, 188)
    log = rep["frames_log"]
    summary = {
        "link": "DTMB mode 6, TU-6 30 km/h, 20 kHz, 20 ppm",  # receiver with no configuration
        "snr_db": snr_db, "frames": n, "detected": rep["config"],
        "ber": bit_errors(np.unpackbits(ref), np.unpackbits(got)),
        "fer": frame_errors(ref.reshape(n, -1), got.reshape(n, -1)),
        "ts_packet_errors": int(pk.any(axis=1).sum()),
        "mer_db": float(np.mean(rep["mer_db"])), "header_snr_db": float(np.mean([f["snr_db"] for f in log])),
        "cfo_hz": log[-1]["cfo_hz"], "sco_ppm": log[-1]["sco_ppm"],
        "payload_mbps": cfg.payload_bitrate / 1e6, "sample_rate": 7.56e6,
        "x_real_time": dur / (t_tx + t_rx), "tx_x_real_time": dur / t_tx,
        "rx_x_real_time_incl_fill": y.size / 7.56e6 / t_rx,  # 510 frames of deinterleaver fill, no LDPC
        "ldpc_failures": rep["ldpc_failures"], "bch_failures": rep["bch_failures"],
    }
    plots.spectrum(y[-20 * cfg.frame_symbols:], 7.56e6, out / "dtmb_spectrum.png",
                   title="DTMB mode 6, TU-6 30 km/h")
    plots.constellation(rx.last_symbols, out / "dtmb_constellation.png", summary["mer_db"],
                        title=f"DTMB 64QAM after FDE @ {snr_db:g} dB, TU-6 30 km/h")
    return summary


def run_atsc3(out: Path, quick: bool = False, snr_db: float = 24.0) -> dict:
    """ATSC 3.0 preset ``mobile_fixed_tdm`` (two PLPs) -> 20 kHz carrier offset, AWGN, an
    unknown start -> ``Atsc3Receiver``: acquisition, configuration from the bootstrap and L1, both
    PLPs' TS compared, L1 checked, the spectrum plotted. 24 dB: about 5 dB above the 256-NUC
    10/15 PLP's threshold (a lost baseband packet drops TS packets, and the BER then counts
    the misaligned rest). AWGN here; echoes are tested in tests/loopback/test_atsc3_loopback.py."""
    from sdrcast.analysis.metrics import occupied_bandwidth
    from sdrcast.mac.ts import sample_stream
    from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter
    from sdrcast.phy.atsc3.ofdm import decode_bootstrap_at
    from sdrcast.phy.atsc3.receiver import Atsc3Receiver
    from sdrcast.phy.kernels.mix import mix

    cfg = Atsc3Config.preset("mobile_fixed_tdm")
    frames = 1 if quick else 2
    warm = Atsc3Transmitter(cfg).modulate({0: sample_stream(10), 1: sample_stream(10)})
    Atsc3Receiver(cfg.sample_rate).demodulate(warm)  # compile the kernels first
    tx = Atsc3Transmitter(cfg)
    rates = tx.payload_bitrates()
    frame_s = tx.frame_samples_count / cfg.sample_rate
    ts = {i: sample_stream(int(r * frames * frame_s / 8 / 188), seed=5 + i) for i, r in rates.items()}
    t0 = time.perf_counter()
    iq = tx.modulate(ts)
    t_tx = time.perf_counter() - t0
    lead = 12345  # the receiver is not told where the frame starts, nor the carrier offset
    y = ChannelEmulator(ChannelConfig(sample_rate=cfg.sample_rate, snr_db=snr_db, cfo_hz=20e3,
                                      seed=2))(np.concatenate([np.zeros(lead, np.complex64), iq]))
    t0 = time.perf_counter()
    got, rep = Atsc3Receiver(cfg.sample_rate).demodulate(y)
    read_ok = rep["configuration"] == dataclasses.asdict(cfg)  # the report holds it as a dict
    t_rx = time.perf_counter() - t0
    sent = np.concatenate([ts[i] for i in sorted(ts)])
    rx = np.concatenate([np.concatenate([got[i][:ts[i].size], ~ts[i][got[i].size:]])  # missing = wrong
                         for i in sorted(ts)])
    blocks = sum(p["fec_blocks"] for p in rep["plps"].values())
    failed = sum(p["ldpc_failures"] for p in rep["plps"].values())
    start = y[rep["start"]:rep["start"] + tx.bootstrap.size]  # as received, offset taken out
    fields = decode_bootstrap_at(mix(start, 0.0, -rep["cfo_hz"] / cfg.sample_rate), cfg.sample_rate)
    plots.spectrum(y[lead + tx.bootstrap.size:lead + tx.frame_samples_count], cfg.sample_rate,
                   out / "atsc3_spectrum.png", title="ATSC 3.0 16K GI5 SP6_2, two PLPs, AWGN")
    dur = iq.size / cfg.sample_rate
    return {"link": "ATSC 3.0 mobile_fixed_tdm, AWGN, 20 kHz", "snr_db": snr_db,
            "frames": rep["frames"], "payload_mbps": sum(rates.values()) / 1e6,
            "ber": bit_errors(np.unpackbits(sent), np.unpackbits(rx)),
            "fer": {"errors": failed, "frames": blocks, "fer": failed / max(blocks, 1),
                    "unit": "FEC blocks"},
            "mer_db": rep["mer_db"], "l1_errors": rep["l1_errors"], "plps": rep["plps"],
            "sample_rate": cfg.sample_rate, "x_real_time": dur / (t_tx + t_rx),
            "tx_x_real_time": dur / t_tx, "rx_x_real_time": dur / t_rx,
            "occupied_bandwidth_hz":
                occupied_bandwidth(iq[tx.bootstrap.size:], cfg.sample_rate)["bandwidth_hz"],
            "bootstrap_decoded": fields.__dict__,
            "bootstrap_ok": fields == tx.bootstrap_fields,
            "configuration_read_from_l1": read_ok,
            "acquisition": {"start": rep["start"], "start_true": lead, "cfo_hz": rep["cfo_hz"],
                            "cfo_true_hz": 20e3},
            "notes": f"ATSC 3.0: bootstrap {'decoded' if fields == tx.bootstrap_fields else 'NOT decoded'}, "
                     f"configuration {'read from L1' if read_ok else 'NOT read'}, "
                     f"L1 errors {rep['l1_errors']}, start {rep['start']} (sent {lead}), CFO "
                     f"{rep['cfo_hz']:.1f} Hz (sent 20000); TX {dur / t_tx:.1f}x, RX "
                     f"{dur / t_rx:.2f}x real time (FER counts FEC blocks)"}


def run_fembms(out: Path, quick: bool = False, snr_db: float = 20.0) -> dict:
    """FeMBMS preset ``5mhz_1k25_mcs9``: generated IP packets -> FembmsTransmitter -> TU-6 at
    60 km/h (626 MHz), 500 Hz carrier offset, an unknown start, AWGN -> FembmsReceiver with no
    configuration: cell search, MIB-MBMS, SIB1-MBMS, MCCH, MTCH -> the packets compared; the
    spectrum plotted."""
    from sdrcast.flowgraphs.fembms_tx import counting_payload
    from sdrcast.mac.ip import udp_datagram
    from sdrcast.phy.fembms.config import FembmsConfig
    from sdrcast.phy.fembms.receiver import FembmsReceiver
    from sdrcast.phy.fembms.transmitter import FembmsTransmitter

    cfg = FembmsConfig.preset("5mhz_1k25_mcs9")
    FembmsReceiver(cfg.rate).demodulate(FembmsTransmitter(cfg).modulate([(1, bytes(40))]))  # compile
    tx = FembmsTransmitter(cfg)
    periods = 1 if quick else 2
    n = int(0.8 * tx.scheduler.tbs[0] * 300 * periods / 1228)
    packets = [udp_datagram(counting_payload(i, 1200), ("10.0.0.1", 4000), ("239.255.0.1", 5000), ident=i)
               for i in range(n)]
    t0 = time.perf_counter()
    iq = tx.modulate([(1, p) for p in packets])
    t_tx = time.perf_counter() - t0
    lead = 4321
    y = ChannelEmulator(ChannelConfig(sample_rate=cfg.rate, snr_db=snr_db, profile="tu6", speed_kmh=60.0,
                                      carrier_hz=626e6, cfo_hz=500.0, seed=3))(
        np.concatenate([np.zeros(lead, np.complex64), iq]))
    t0 = time.perf_counter()
    got, rep = FembmsReceiver(cfg.rate).demodulate(y)
    t_rx = time.perf_counter() - t0
    plots.spectrum(y, cfg.rate, out / "fembms_spectrum.png",
                   title="FeMBMS 5 MHz, 1.25 kHz PMCH MCS 9, TU-6 60 km/h")
    sent = np.frombuffer(b"".join(packets), np.uint8)
    recv = np.frombuffer(b"".join(got), np.uint8)[:sent.size]
    recv = np.concatenate([recv, ~sent[recv.size:]])  # missing bytes count as wrong
    dur = iq.size / cfg.rate
    mch = rep["fec"]["mch"]
    return {"link": "FeMBMS 5 MHz 1.25 kHz MCS 9, TU-6 60 km/h", "snr_db": snr_db,
            "ber": bit_errors(np.unpackbits(sent), np.unpackbits(recv)),
            "fer": {"errors": mch["errors"], "frames": mch["blocks"], "fer": mch["bler"],
                    "unit": "MCH transport blocks"},
            "mer_db": rep["mer_db"],
            "payload_mbps": tx.scheduler.tbs[0] * 8 * cfg.mch_subframes / (10 * cfg.period_frames) / 1e3,
            "x_real_time": dur / (t_tx + t_rx), "tx_x_real_time": dur / t_tx, "rx_x_real_time": dur / t_rx,
            "packets_sent": len(packets), "packets_received": len(got),
            "occupied_bandwidth_hz": occupied_bandwidth(iq, cfg.rate)["bandwidth_hz"],
            "receiver": {k: rep[k] for k in ("pci", "cp", "n_rb", "mbsfn_area", "numerology",
                                             "cfo_hz", "pmchs", "fec", "payload")},
            "notes": f"FeMBMS: {len(got)} of {len(packets)} IP packets back "
                     f"({'all byte-exact' if got == packets else 'NOT all'}); PCI {rep['pci']}, "
                     f"{rep['numerology']} kHz, MBSFN area {rep['mbsfn_area']}, "
                     f"MCS {rep['pmchs'][0]['data_mcs']} read "
                     f"from the air; CFO {rep['cfo_hz']:.0f} Hz (sent 500); occupied bandwidth "
                     f"{occupied_bandwidth(iq, cfg.rate)['bandwidth_hz'] / 1e6:.2f} MHz; TX "
                     f"{dur / t_tx:.1f}x, RX {dur / t_rx:.2f}x real time"}


def run_demo(out: str | Path = "demo-output", quick: bool = False, status: bool = False) -> dict:
    """Run every available link; print a summary table; write summary.json and plots."""
    out = Path(out)
    frames = 40 if quick else 200
    results = {
        "reference": run_reference_link(out, frames=frames, status=status),
        "reference_tu6": run_reference_link(out, snr_db=28.0, frames=frames, status=status,
                                            profile="tu6", speed_kmh=5.0, tag="reference_tu6"),
        **{s.name: load(s.demo)(out, quick) for s in with_part("demo")},
    }
    (out / "summary.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"{'link':<52} {'SNR dB':>6} {'BER':>10} {'FER':>7} {'MER dB':>7} {'Mbps':>7} {'x rt':>6}")
    for r in results.values():
        print(f"{r['link']:<52} {r['snr_db']:>6.1f} {r['ber']['ber']:>10.2e} "
              f"{r['fer']['fer']:>7.3f} {r['mer_db']:>7.1f} {r['payload_mbps']:>7.2f} "
              f"{r['x_real_time']:>6.2f}")
    for r in results.values():  # what a standard's demo adds to its row
        if r.get("notes"):
            print(r["notes"])
    from sdrcast.monitor.demo import run as run_monitor

    results["monitor"] = run_monitor(out, quick)  # two channels watched, one alarm raised
    (out / "summary.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"plots and summary.json written to {out}/")
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sdrcast.flowgraphs.demo", description=__doc__)
    ap.add_argument("--out", default="demo-output", help="output folder (default demo-output)")
    ap.add_argument("--quick", action="store_true", help="fewer frames")
    args = ap.parse_args(argv)
    run_demo(args.out, args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
