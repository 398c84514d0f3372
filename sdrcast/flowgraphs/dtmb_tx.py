"""DTMB transmitter flowgraph: TS source -> DtmbTransmitter -> sample sink.

    python -m sdrcast.flowgraphs.dtmb_tx --preset mode6 --input in.ts --output out.sigmf-data
    sdrcast tx dtmb --config cfg.toml --input udp://@239.1.1.1:5000 --output soapy:driver=hackrf \\
        --freq 586e6 --gain 30

Each output chunk is one FEC group of signal frames (1 or 2 frames), tagged ``frame_start`` (the
frame number in the superframe) at every frame header, so SigMF recordings annotate frames.
The end of the input is completed with null packets (counted as ``null_packets_added``).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

import numpy as np

from sdrcast.config import require_one_of
from sdrcast.errors import ConfigError
from sdrcast.mac.ts import null_packets
from sdrcast.phy.dtmb import PRESETS, DtmbConfig, DtmbTransmitter, stages
from sdrcast.runtime import Block, Chunk, FrameAdapter, Tag


class DtmbTxBlock(Block):
    """TS bytes in, 7.56 Msps complex baseband out, one FEC group of frames per chunk."""

    def __init__(self, cfg: DtmbConfig, name: str = "dtmb_tx"):
        super().__init__(name, DtmbTransmitter.sample_rate)
        self.tx = DtmbTransmitter(cfg)
        self.framer = FrameAdapter(self.tx.bytes_per_group, tail="emit")

    def process(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        cfg = self.tx.cfg
        for group in self.framer.process(chunks):
            self.poll()
            ts = group.data
            short = -ts.size % self.tx.bytes_per_group
            if short:  # end of stream: complete the group with null packets
                whole = ts.size - ts.size % 188
                self.counters.add("trailing_bytes_dropped", ts.size - whole)
                ts = np.concatenate([ts[:whole], null_packets(-whole % self.tx.bytes_per_group // 188)])
                self.counters.add("null_packets_added", (ts.size - whole) // 188)
            first = self.tx.frame
            iq = self.tx.modulate(ts)
            n = iq.size // cfg.frame_symbols
            sf = stages.frames_per_superframe(cfg)
            yield Chunk(iq, [Tag(i * cfg.frame_symbols, "frame_start", (first + i) % sf)
                             for i in range(n)])


def config_from_args(config: str | None, preset: str | None) -> DtmbConfig:
    if config and preset:
        raise ConfigError("give --config or --preset, not both")
    if config:
        return DtmbConfig.load(config)
    require_one_of("preset", preset or "mode6", PRESETS)
    return PRESETS[preset or "mode6"]


def describe(cfg: DtmbConfig) -> str:
    return (f"DTMB {cfg.header.upper()}{' rotating' if cfg.header_rotating else ''}, "
            f"C={cfg.carriers}, {cfg.constellation}, LDPC {cfg.ldpc_rate}, interleaver M="
            f"{cfg.interleaver_unit}: payload {cfg.payload_bitrate / 1e6:.3f} Mbit/s, "
            f"{cfg.ts_bytes_per_frame // 188} TS packets per frame, 7.56 Msps")


def run(cfg: DtmbConfig, input_spec: str, output_spec: str, freq: float | None = None,
        gain=None, status: bool = True, repeat: bool = False) -> dict:
    from sdrcast.runtime import Flowgraph
    from sdrcast.sdr_io import open_sink, open_source

    src = open_source(input_spec, kind="ts", repeat=repeat)
    tx = DtmbTxBlock(cfg)
    snk = open_sink(output_spec, sample_rate=DtmbTransmitter.sample_rate, freq=freq, gain=gain)
    g = Flowgraph(status_interval=1.0 if status else None)
    g.connect(src, tx, snk)
    return g.run()


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--config", help="TOML/JSON DtmbConfig (see docs/dtmb.md)")
    ap.add_argument("--preset", help=f"one of {sorted(PRESETS)} (default mode6)")
    ap.add_argument("--input", required=True, help="TS file, -, or udp://[@]host:port")
    ap.add_argument("--output", required=True, help="sample file, -, zmq+pub://…, soapy:ARGS")
    ap.add_argument("--freq", type=float, help="centre frequency (Hz) for radios and SigMF")
    ap.add_argument("--gain", help="radio gain dB or NAME=dB,…")
    ap.add_argument("--repeat", action="store_true", help="loop a TS file")
    ap.add_argument("--quiet", action="store_true", help="no status line")


def main(argv: list[str] | None = None) -> int:
    from sdrcast.cli import flowgraph_main

    return flowgraph_main("sdrcast.flowgraphs.dtmb_tx", __doc__, add_arguments, run_from_args, argv)


def run_from_args(args) -> int:
    from sdrcast.cli import parse_gain

    cfg = config_from_args(args.config, args.preset)
    print(describe(cfg), file=sys.stderr)
    stats = run(cfg, args.input, args.output, args.freq, parse_gain(args.gain), not args.quiet,
                args.repeat)
    c = stats["blocks"]["dtmb_tx"]["counters"]
    print(f"frames out: {stats['blocks']['dtmb_tx']['items_out'] // cfg.frame_symbols}, "
          f"null packets added: {c.get('null_packets_added', 0)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
