"""DTMB receiver flowgraph: sample source -> DtmbRxBlock -> TS sink.

    python -m sdrcast.flowgraphs.dtmb_rx --input capture.sigmf-data --output out.ts
    sdrcast rx dtmb --input soapy:driver=hackrf --rate 7.56e6 --freq 586e6 --output udp://239.1.1.1:5000

The block buffers five frames, acquires (header type, timing, CFO, PN phase, mode), then
decodes frame by frame as samples arrive. TS packets from uncorrectable BCH blocks carry the
transport_error_indicator. Needs 7.56 Msps input (unshaped symbols) for now.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

import numpy as np

from sdrcast.phy.dtmb import DtmbReceiver
from sdrcast.phy.dtmb.demodulator import DtmbDemodulator
from sdrcast.runtime import Block, Chunk

ACQUIRE_SAMPLES = 5 * 4725  # five of the longest frames


class DtmbRxBlock(Block):
    """7.56 Msps complex samples in, TS bytes out."""

    def __init__(self, name: str = "dtmb_rx"):
        super().__init__(name)
        self.rx = DtmbReceiver()
        self.demod: DtmbDemodulator | None = None
        self.cfo = 0.0

    def process(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        buf = np.zeros(0, np.complex64)  # before sync: raw input; after: aligned, CFO-corrected
        pos = 0  # absolute index of the first sample of ``buf``
        for c in chunks:
            self.poll()
            x = np.asarray(c.data, np.complex64)
            if self.demod is None:
                buf = np.concatenate([buf, x])
                if buf.size < ACQUIRE_SAMPLES:
                    continue
                cfg = self.rx.acquire(buf)
                s = self.rx.sync
                self.demod = DtmbDemodulator(cfg, first_frame=s.superframe_index)
                self.cfo = s.cfo_hz
                self.counters.add("samples_before_sync", s.start)
                x, buf, pos = buf[s.start:], np.zeros(0, np.complex64), pos + s.start
            n = np.arange(pos + buf.size, pos + buf.size + x.size, dtype=np.float64)
            x = (x * np.exp(-2j * np.pi * np.mod(self.cfo / 7.56e6 * n, 1.0))).astype(np.complex64)
            buf = np.concatenate([buf, x])
            fs = self.demod.cfg.frame_symbols
            whole = buf.size // fs * fs
            if whole:
                ts, _ = self.demod.demodulate(buf[:whole])
                buf, pos = buf[whole:], pos + whole
                if ts.size:
                    yield Chunk(ts)
        if buf.size and self.demod is not None:
            self.counters.add("tail_samples_dropped", buf.size)
        if self.demod is not None:
            r = self.demod.report
            self.counters.update({"frames": r.frames, "ldpc_failures": r.ldpc_failures,
                                  "bch_failures": r.bch_failures,
                                  "ts_packets_marked": r.ts_packets_marked})


def main(argv: list[str] | None = None) -> int:
    from sdrcast.cli import flowgraph_main

    return flowgraph_main("sdrcast.flowgraphs.dtmb_rx", __doc__, add_arguments, run_from_args, argv)


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--input", required=True, help="sample file, -, zmq+sub://…, soapy:ARGS")
    ap.add_argument("--output", required=True, help="TS file, -, or udp://host:port")
    ap.add_argument("--rate", type=float, default=7.56e6, help="sample rate (7.56e6 for now)")
    ap.add_argument("--freq", type=float, help="centre frequency (Hz) for radios")
    ap.add_argument("--gain", help="radio gain dB or NAME=dB,…")
    ap.add_argument("--format", dest="in_format", choices=("cf32", "cs16", "cs8", "cu8"),
                    help="raw sample format when the extension does not say")
    ap.add_argument("--quiet", action="store_true", help="no status line")


def run_from_args(args) -> int:
    from sdrcast.cli import parse_gain
    from sdrcast.runtime import Flowgraph
    from sdrcast.sdr_io import open_sink, open_source

    src = open_source(args.input, fmt=args.in_format, sample_rate=args.rate, freq=args.freq,
                      gain=parse_gain(args.gain))
    rx = DtmbRxBlock()
    snk = open_sink(args.output, kind="ts")
    stats = Flowgraph(status_interval=None if args.quiet else 1.0).connect(src, rx, snk).run()
    c = stats["blocks"]["dtmb_rx"]["counters"]
    if rx.demod is not None:
        cfg = rx.demod.cfg
        print(f"DTMB {cfg.header} {'rotating ' if cfg.header_rotating else ''}C={cfg.carriers} "
              f"{cfg.constellation} {cfg.ldpc_rate} M={cfg.interleaver_unit}, CFO "
              f"{rx.cfo:.0f} Hz: {c.get('frames', 0)} frames, TS bytes out "
              f"{stats['blocks']['dtmb_rx']['items_out']}, LDPC failures "
              f"{c.get('ldpc_failures', 0)}, marked packets {c.get('ts_packets_marked', 0)}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
