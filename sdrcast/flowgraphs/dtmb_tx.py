"""DTMB transmitter flowgraph: TS source -> DtmbTransmitter -> sample sink.

    python -m sdrcast.flowgraphs.dtmb_tx --preset mode6 --input in.ts --output out.sigmf-data
    sdrcast tx dtmb --config cfg.toml --input udp://@239.1.1.1:5000 --output soapy:driver=hackrf \\
        --freq 586e6 --gain 30

Each output chunk is a batch of 32 signal frames, tagged ``frame_start`` (the frame number in
the superframe) at every frame header, so SigMF recordings annotate frames.
The end of the input is completed with null packets (counted as ``null_packets_added``). Live
input (UDP, or ``--live``) goes through ``TsRateAdapter`` at the payload rate: null packets
stuffed when it is slower, oldest packets dropped when it runs more than 1 s ahead, both
counted. ``--rate 10e6`` gives SRRC-shaped output at a radio rate.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from sdrcast.config import require_one_of
from sdrcast.errors import ConfigError
from sdrcast.flowgraphs.common import (
    DEFAULT_LEVEL_DBFS,
    add_level_argument,
    finish,
    flowgraph_main,
    parse_gain,
)
from sdrcast.flowgraphs.tx_block import TxBlock
from sdrcast.phy.dtmb import PRESETS, DtmbConfig, DtmbTransmitter, stages
from sdrcast.phy.dtmb.config import SYMBOL_RATE
from sdrcast.phy.parallel import submit
from sdrcast.runtime import Chunk, FrameAdapter

BATCH_FRAMES = 32  # frames modulated per call (~18 ms of signal)


class DtmbTxBlock(TxBlock):
    """TS bytes in, complex baseband out at ``cfg.sample_rate``, ``BATCH_FRAMES`` frames per
    chunk (a shorter last one), a ``frame_start`` tag (value: index in the superframe) where
    each frame begins. The FEC of the next batch runs ahead on the kernel pool (one batch of
    latency). At the end of input the time interleaver is flushed with null frames, so every
    input packet is on air. ``level_dbfs``: output RMS (None: as the transmitter makes it)."""

    def __init__(self, cfg: DtmbConfig, level_dbfs: float | None = None, name: str = "dtmb_tx"):
        super().__init__(DtmbTransmitter(cfg), name, level_dbfs)
        # about BATCH_FRAMES frames per transmitter call (one frame a call spent most of its
        # time in per-call overhead: 0.5-0.8x real time for mode 6)
        groups = max(1, BATCH_FRAMES // self.tx.cfg.frames_per_group)
        self.framer = FrameAdapter(self.tx.bytes_per_group * groups, tail="emit")
        self.sent_input = False
        self.symbols_in = 0  # symbols (7.56 Msps) and samples produced so far, for tag offsets
        self.samples_out = 0

    def process(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        # two-stage pipeline: the FEC of a batch runs on the kernel pool while the previous
        # batch is modulated here (the modulation half holds the interleaver's state)
        ahead = None  # (future of the FEC half, frames)
        for ts in self._batches(chunks):
            nxt = (submit(self.tx.encode, ts),
                   -(-ts.size // self.tx.bytes_per_group) * self.tx.cfg.frames_per_group)
            if ahead is not None:
                yield self._modulated(*ahead)
            ahead = nxt
        if ahead is not None:
            yield self._modulated(*ahead)

    def _batches(self, chunks: Iterator[Chunk]) -> Iterator[np.ndarray]:
        """Whole TS packets, a batch at a time (the end of input: a partial group, which
        ``encode`` completes with nulls), then the interleaver flush's null packets."""
        for batch in self.framer.process(chunks):
            self.poll()
            ts = batch.data
            whole = ts.size - ts.size % 188
            if whole < ts.size:
                self.counters.add("trailing_bytes_dropped", ts.size - whole)
            self.sent_input = True
            yield ts[:whole]
        if self.sent_input:  # end of input: the interleaver's content goes on air too
            nulls = self.tx.flush_packets()
            self.counters["flush_packets_added"] = self.tx.flush_packets_added
            step = self.framer.next_len()
            for i in range(0, nulls.size, step):
                yield nulls[i:i + step]

    def _modulated(self, fec, n: int) -> Chunk:
        iq = self.tx.baseband(fec.result()["ldpc"])
        self.counters["null_packets_added"] = self.tx.null_packets_added
        return self._frames(iq, n)

    def _frames(self, iq: np.ndarray, n: int) -> Chunk:
        """``n`` frames just modulated as one chunk, scaled, tagged at each frame start."""
        cfg = self.tx.cfg
        sf = stages.frames_per_superframe(cfg)
        first = (self.tx.frame - n) % sf
        ratio = cfg.sample_rate / SYMBOL_RATE
        delay = self.tx.shaper.delay_out if self.tx.shaper is not None else 0.0
        # frame starts in output samples (shaped: through the filter)
        starts = [round((self.symbols_in + i * cfg.frame_symbols) * ratio + delay) - self.samples_out
                  for i in range(n)]
        self.counters.add("frames", n)
        self.symbols_in += n * cfg.frame_symbols
        self.samples_out += iq.size
        return self.emit(iq, starts, [(first + i) % sf for i in range(n)])


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
            f"{cfg.ts_bytes_per_frame // 188} TS packets per frame, {cfg.sample_rate / 1e6:g} Msps"
            f"{'' if cfg.sample_rate == SYMBOL_RATE else ' (SRRC roll-off 0.05)'}")


def run(cfg: DtmbConfig, input_spec: str, output_spec: str, freq: float | None = None,
        gain=None, status: bool = True, repeat: bool = False, live: bool | None = None,
        level_dbfs: float | None = DEFAULT_LEVEL_DBFS) -> dict:
    """TS source -> (live input: TsRateAdapter at the payload rate) -> DtmbTxBlock -> sink.
    ``live`` defaults to True for UDP input; output RMS ``level_dbfs``."""
    from sdrcast.mac.ts_rate import TsRateAdapter
    from sdrcast.runtime import Flowgraph
    from sdrcast.sdr_io import open_sink, open_source

    src = open_source(input_spec, kind="ts", repeat=repeat)
    live = input_spec.startswith("udp://") if live is None else live
    chain = [src, TsRateAdapter(cfg.payload_bitrate)] if live else [src]
    snk = open_sink(output_spec, sample_rate=cfg.sample_rate, freq=freq, gain=gain)
    g = Flowgraph(status_interval=1.0 if status else None)
    g.connect(*chain, DtmbTxBlock(cfg, level_dbfs), snk)
    return g.run()


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--config", help="TOML/JSON DtmbConfig (see docs/dtmb.md)")
    ap.add_argument("--preset", help=f"one of {sorted(PRESETS)} (default mode6)")
    ap.add_argument("--input", required=True, help="TS file, -, or udp://[@]host:port")
    ap.add_argument("--output", required=True, help="sample file, -, zmq+pub://…, soapy:ARGS")
    ap.add_argument("--freq", type=float, help="centre frequency (Hz) for radios and SigMF")
    ap.add_argument("--gain", help="radio gain dB or NAME=dB,…")
    ap.add_argument("--repeat", action="store_true", help="loop a TS file")
    ap.add_argument("--rate", type=float, help="output sample rate: 7.56e6 (symbols, default) or "
                    "a radio rate such as 10e6 (SRRC roll-off 0.05 shaping)")
    ap.add_argument("--live", action="store_true", help="pace the input at the payload rate, "
                    "stuffing null packets and counting drops (default for udp:// input)")
    ap.add_argument("--quiet", action="store_true", help="no status line")
    add_level_argument(ap)


def main(argv: list[str] | None = None) -> int:
    return flowgraph_main("sdrcast.flowgraphs.dtmb_tx", __doc__, add_arguments, run_from_args, argv)


def run_from_args(args) -> int:
    cfg = config_from_args(args.config, args.preset)
    if args.rate:
        cfg = replace(cfg, sample_rate=args.rate)
    print(describe(cfg), file=sys.stderr)
    stats = run(cfg, args.input, args.output, args.freq, parse_gain(args.gain), not args.quiet,
                args.repeat, True if args.live else None, args.level)
    c = stats["blocks"]["dtmb_tx"]["counters"]
    print(f"TS packets in: {stats['blocks']['dtmb_tx']['items_in'] // 188}, frames out: "
          f"{c.get('frames', 0)}, null packets added at the end: "
          f"{c.get('null_packets_added', 0)} + {c.get('flush_packets_added', 0)} (interleaver "
          "flush)", file=sys.stderr)
    return finish(stats, c.get("frames", 0), f"nothing sent: no input from {args.input}")


if __name__ == "__main__":
    raise SystemExit(main())
