"""ATSC 3.0 transmitter flowgraph: one source per PLP -> Atsc3TxBlock -> sample sink.

    python -m sdrcast.flowgraphs.atsc3_tx --preset mobile_fixed_tdm --input 0=in.ts --output out.sigmf-data
    sdrcast tx atsc3 --config cfg.toml --input udp://@239.1.1.1:5000 --output soapy:driver=hackrf \\
        --freq 593e6 --gain 30
    sdrcast tx atsc3 --config two_plps.toml --input 0=robust.ts --input 1=udp://@239.1.1.1:5000 \\
        --output out.cf32

``--input SPEC`` feeds the first PLP; ``--input PLP_ID=SPEC`` (repeatable) feeds any. A PLP
carries what its ``input`` says: TS (file, -, udp://) or IPv4 (udp://, each datagram rebuilt
with its addresses; or a .pcap capture). PLPs with no input carry padding. Each output chunk is
one frame, tagged ``frame_start`` (the frame number) at its bootstrap, so SigMF recordings
annotate frames.

Live operation (udp:// input, or ``--live``): frames leave by the clock, one per frame
duration, whatever the input does. TS inputs are paced to their PLP's payload rate first by
``TsRateAdapter`` (null packets stuffed when slower, oldest packets dropped beyond 1 s, both
counted); an IP PLP's frame is completed with baseband padding when input is short, and
baseband packets beyond ``max_backlog_s`` of input are dropped oldest first and counted. Without
live input a frame leaves when every connected PLP has filled it, and the end of the inputs
completes the last frame with baseband padding.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator

import numpy as np

from sdrcast.errors import ConfigError
from sdrcast.flowgraphs.common import (
    DEFAULT_LEVEL_DBFS,
    add_level_argument,
    finish,
    flowgraph_main,
    parse_gain,
)
from sdrcast.flowgraphs.tx_block import TxBlock
from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter
from sdrcast.phy.atsc3.config import PRESETS
from sdrcast.runtime import Chunk


class Atsc3TxBlock(TxBlock):
    """Payload chunks in (tagged ``plp_id``; untagged ones feed ``inputs[0]``), complex baseband
    out, one frame per chunk. ``inputs``: the PLPs that have a source (default: the first);
    ``live``: frames by the clock (see the module doc); ``level_dbfs``: output RMS (None:
    as the transmitter makes it, unit power)."""

    def __init__(self, cfg: Atsc3Config, inputs: list[int] | None = None, live: bool = False,
                 max_backlog_s: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 level_dbfs: float | None = None, name: str = "atsc3_tx"):
        super().__init__(Atsc3Transmitter(cfg), name, level_dbfs)
        self.inputs = list(inputs) if inputs else [cfg.subframes[0].plps[0].plp_id]
        unknown = sorted(set(self.inputs) - set(self.tx.plps))
        if unknown:
            raise ConfigError(f"inputs {unknown}: no such plp_id (PLPs {sorted(self.tx.plps)})")
        self.live, self.clock = live, clock
        self.frame_s = self.tx.frame_samples_count / cfg.sample_rate
        self.max_frames = max(1, round(max_backlog_s / self.frame_s))
        self.tick_s = 0.01 if live else None
        self.t0: float | None = None

    def _emit(self, iq) -> Iterator[Chunk]:
        n = self.tx.frame_samples_count
        self.counters.update({"frames": self.tx.frames,
                              "padding_packets": sum(self.tx.padding_packets.values()),
                              "empty_carriers": self.tx.empty_carriers,
                              **{f"plp{k}_{n}": v for k, e in self.tx.plps.items()
                                 for n, v in e.alp.counters.items()}})
        for i in range(iq.size // n):
            yield self.emit(iq[i * n:(i + 1) * n], [0], [self.tx.frames - iq.size // n + i])

    def _due(self) -> int:
        """Frames to send now."""
        if not self.live:
            return self.tx.frames_ready(self.inputs)
        now = self.clock()
        self.t0 = now if self.t0 is None else self.t0
        for i, e in self.tx.plps.items():  # input faster than the capacity: drop the oldest
            extra = len(e.packets) - self.max_frames * e.cfg.fec_blocks
            if extra > 0:
                e.packets = e.packets[extra:]
                self.counters.add(f"plp{i}_baseband_packets_dropped", extra)
        return int((now - self.t0) / self.frame_s) - self.tx.frames

    def process(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        for c in chunks:
            self.poll()
            if len(c):
                self.tx.feed(c.tag("plp_id", self.inputs[0]), c.data)
            n = self._due()
            if n > 0:
                yield from self._emit(self.tx.next_frames(n))
        yield from self._emit(self.tx.flush() if not self.live else np.zeros(0, np.complex64))


def config_from_args(config: str | None, preset: str | None) -> Atsc3Config:
    if config and preset:
        raise ConfigError("give --config or --preset, not both")
    return Atsc3Config.load(config) if config else Atsc3Config.preset(preset or "fixed_16k_256nuc")


def describe(cfg: Atsc3Config, tx: Atsc3Transmitter) -> str:
    rates = tx.payload_bitrates()
    subs = "; ".join(
        f"subframe {k} {s.fft_size // 1024}K GI{s.guard_interval} {s.scattered_pilot_pattern}: "
        + ", ".join(f"PLP {p.plp_id} {p.input.upper()} ({p.modulation} {p.code_rate} {p.ldpc_length}) "
                    f"{rates[p.plp_id] / 1e6:.3f} Mbit/s" for p in s.plps)
        for k, s in enumerate(cfg.subframes))
    return (f"ATSC 3.0 {cfg.sample_rate / 1e6:g} Msps, frame "
            f"{tx.frame_samples_count / cfg.sample_rate * 1e3:.1f} ms; {subs}")


def parse_inputs(cfg: Atsc3Config, specs: list[str]) -> dict[int, str]:
    """``["in.ts"]`` or ``["0=a.ts", "1=udp://@239.1.1.1:5000"]`` -> {plp_id: spec}."""
    plps = [p.plp_id for s in cfg.subframes for p in s.plps]
    out: dict[int, str] = {}
    for spec in specs:
        head, sep, rest = spec.partition("=")
        plp, spec = (int(head), rest) if sep and head.isdigit() else (plps[0], spec)
        if plp not in plps:
            raise ConfigError(f"--input {plp}=…: plp_id {plp} is not in the configuration (PLPs {plps})")
        if plp in out:
            raise ConfigError(f"--input: PLP {plp} is given twice")
        out[plp] = spec
    return out


def run(cfg: Atsc3Config, inputs: str | dict[int, str], output_spec: str, freq: float | None = None,
        gain=None, status: bool = True, repeat: bool = False, live: bool | None = None,
        level_dbfs: float | None = DEFAULT_LEVEL_DBFS) -> dict:
    """``inputs``: a spec for the first PLP, or {plp_id: spec}; output RMS ``level_dbfs``."""
    from sdrcast.mac.ts_rate import TsRateAdapter
    from sdrcast.runtime import Flowgraph, Label
    from sdrcast.sdr_io import open_sink, open_source

    inputs = parse_inputs(cfg, [inputs]) if isinstance(inputs, str) else inputs
    kinds = {p.plp_id: p.input for s in cfg.subframes for p in s.plps}
    live = any(s.startswith("udp://") for s in inputs.values()) if live is None else live
    if live and any(kinds[i] == "ip" and not s.startswith("udp://") for i, s in inputs.items()):
        raise ConfigError("live operation takes IP input from udp:// only (a pcap capture has no "
                          "pacing); omit --live")
    block = Atsc3TxBlock(cfg, list(inputs), live, level_dbfs=level_dbfs)
    rates = block.tx.payload_bitrates()
    g = Flowgraph(status_interval=1.0 if status else None)
    snk = open_sink(output_spec, sample_rate=cfg.sample_rate, freq=freq, gain=gain)
    for plp, spec in inputs.items():
        chain = [open_source(spec, kind=kinds[plp], repeat=repeat, name=f"plp{plp}_source")]
        if live and kinds[plp] == "ts":
            chain.append(TsRateAdapter(rates[plp], name=f"plp{plp}_ts_rate"))
        g.connect(*chain, Label("plp_id", plp, name=f"plp{plp}"), block, snk)
    return g.run()


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--config", help="TOML/JSON Atsc3Config (see docs/atsc3.md)")
    ap.add_argument("--preset", help=f"one of {list(PRESETS)} (default fixed_16k_256nuc)")
    ap.add_argument("--input", required=True, action="append",
                    help="[PLP_ID=]SPEC, repeatable: TS file, -, udp://[@]host:port, .pcap (IP PLPs)")
    ap.add_argument("--output", required=True, help="sample file, -, zmq+pub://…, soapy:ARGS")
    ap.add_argument("--freq", type=float, help="centre frequency (Hz) for radios and SigMF")
    ap.add_argument("--gain", help="radio gain dB or NAME=dB,…")
    ap.add_argument("--repeat", action="store_true", help="loop the input files")
    ap.add_argument("--live", action="store_true", help="frames by the clock, TS paced at its PLP's "
                    "payload rate with null stuffing, drops counted (default for udp:// input)")
    ap.add_argument("--quiet", action="store_true", help="no status line")
    add_level_argument(ap)


def main(argv: list[str] | None = None) -> int:
    return flowgraph_main("sdrcast.flowgraphs.atsc3_tx", __doc__, add_arguments, run_from_args, argv)


def run_from_args(args) -> int:
    cfg = config_from_args(args.config, args.preset)
    print(describe(cfg, Atsc3Transmitter(cfg)), file=sys.stderr)
    stats = run(cfg, parse_inputs(cfg, args.input), args.output, args.freq, parse_gain(args.gain),
                not args.quiet, args.repeat, True if args.live else None, args.level)
    c = stats["blocks"]["atsc3_tx"]["counters"]
    print(f"frames out: {c.get('frames', 0)}, padding packets: {c.get('padding_packets', 0)}",
          file=sys.stderr)
    return finish(stats, c.get("frames", 0),
                  f"nothing sent: no input from {', '.join(args.input)}")


if __name__ == "__main__":
    raise SystemExit(main())
