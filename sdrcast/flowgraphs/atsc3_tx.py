"""ATSC 3.0 transmitter flowgraph: TS source -> Atsc3TxBlock -> sample sink.

    python -m sdrcast.flowgraphs.atsc3_tx --config cfg.toml --input in.ts --output out.sigmf-data
    sdrcast tx atsc3 --config cfg.toml --input udp://@239.1.1.1:5000 --output soapy:driver=hackrf \\
        --freq 593e6 --gain 30

The input feeds the first PLP of the configuration (other PLPs carry padding packets). Each
output chunk is one frame, tagged ``frame_start`` (the frame number) at its bootstrap, so SigMF
recordings annotate frames. Live input (UDP, or ``--live``) goes through ``TsRateAdapter`` at
the PLP's payload rate: null packets stuffed when it is slower, oldest packets dropped when it
runs more than 1 s ahead, both counted. The end of the input completes the last frame with
baseband-packet padding.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter
from sdrcast.runtime import Block, Chunk, Tag


class Atsc3TxBlock(Block):
    """TS bytes in (first PLP), complex baseband out, one frame per chunk."""

    def __init__(self, cfg: Atsc3Config, name: str = "atsc3_tx"):
        super().__init__(name, cfg.sample_rate)
        self.tx = Atsc3Transmitter(cfg)
        self.plp = cfg.subframes[0].plps[0].plp_id

    def _emit(self, iq) -> Iterator[Chunk]:
        n = self.tx.frame_samples_count
        for i in range(iq.size // n):
            yield Chunk(iq[i * n:(i + 1) * n], [Tag(0, "frame_start", self.tx.frames - iq.size // n + i)])

    def process(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        for c in chunks:
            self.poll()
            yield from self._emit(self.tx.push({self.plp: c.data}))
        yield from self._emit(self.tx.flush())
        self.counters.update({"frames": self.tx.frames,
                              "padding_packets": sum(self.tx.padding_packets.values()),
                              "empty_carriers": self.tx.empty_carriers,
                              **{f"plp{k}_{n}": v for k, e in self.tx.plps.items()
                                 for n, v in e.alp.counters.items()}})


def describe(cfg: Atsc3Config, tx: Atsc3Transmitter) -> str:
    rates = tx.payload_bitrates()
    subs = "; ".join(
        f"subframe {k} {s.fft_size // 1024}K GI{s.guard_interval} {s.scattered_pilot_pattern}: "
        + ", ".join(f"PLP {p.plp_id} ({p.modulation} {p.code_rate} {p.ldpc_length}) "
                    f"{rates[p.plp_id] / 1e6:.3f} Mbit/s" for p in s.plps)
        for k, s in enumerate(cfg.subframes))
    return (f"ATSC 3.0 {cfg.sample_rate / 1e6:g} Msps, frame "
            f"{tx.frame_samples_count / cfg.sample_rate * 1e3:.1f} ms; {subs}")


def run(cfg: Atsc3Config, input_spec: str, output_spec: str, freq: float | None = None, gain=None,
        status: bool = True, repeat: bool = False, live: bool | None = None) -> dict:
    from sdrcast.mac.ts_rate import TsRateAdapter
    from sdrcast.runtime import Flowgraph
    from sdrcast.sdr_io import open_sink, open_source

    block = Atsc3TxBlock(cfg)
    src = open_source(input_spec, kind="ts", repeat=repeat)
    live = input_spec.startswith("udp://") if live is None else live
    rate = block.tx.payload_bitrates()[block.plp]
    chain = [src, TsRateAdapter(rate)] if live else [src]
    snk = open_sink(output_spec, sample_rate=cfg.sample_rate, freq=freq, gain=gain)
    g = Flowgraph(status_interval=1.0 if status else None)
    g.connect(*chain, block, snk)
    return g.run()


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--config", required=True, help="TOML/JSON Atsc3Config (see docs/atsc3.md)")
    ap.add_argument("--input", required=True, help="TS file, -, or udp://[@]host:port")
    ap.add_argument("--output", required=True, help="sample file, -, zmq+pub://…, soapy:ARGS")
    ap.add_argument("--freq", type=float, help="centre frequency (Hz) for radios and SigMF")
    ap.add_argument("--gain", help="radio gain dB or NAME=dB,…")
    ap.add_argument("--repeat", action="store_true", help="loop a TS file")
    ap.add_argument("--live", action="store_true", help="pace the input at the PLP's payload rate, "
                    "stuffing null packets and counting drops (default for udp:// input)")
    ap.add_argument("--quiet", action="store_true", help="no status line")


def main(argv: list[str] | None = None) -> int:
    from sdrcast.cli import flowgraph_main

    return flowgraph_main("sdrcast.flowgraphs.atsc3_tx", __doc__, add_arguments, run_from_args, argv)


def run_from_args(args) -> int:
    from sdrcast.cli import parse_gain

    cfg = Atsc3Config.load(args.config)
    print(describe(cfg, Atsc3Transmitter(cfg)), file=sys.stderr)
    stats = run(cfg, args.input, args.output, args.freq, parse_gain(args.gain), not args.quiet,
                args.repeat, True if args.live else None)
    c = stats["blocks"]["atsc3_tx"]["counters"]
    r = stats["blocks"].get("ts_rate", {}).get("counters", {})
    print(f"frames out: {c.get('frames', 0)}, padding packets: {c.get('padding_packets', 0)}, null "
          f"packets stuffed: {r.get('null_packets_stuffed', 0)}, input packets dropped (faster than "
          f"capacity): {r.get('ts_packets_dropped', 0)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
