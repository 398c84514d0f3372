"""DTMB receiver flowgraph: sample source -> DtmbRxBlock -> TS sink.

    python -m sdrcast.flowgraphs.dtmb_rx --input capture.sigmf-data --output out.ts
    sdrcast rx dtmb --input soapy:driver=hackrf --rate 10e6 --freq 586e6 --output udp://239.1.1.1:5000

The block wraps the streaming ``DtmbReceiver``: it acquires (header type, timing, CFO, PN
phase, mode), tracks carrier and sample clock, equalises multipath, re-acquires after signal
loss, and decodes frame by frame as samples arrive. TS packets from uncorrectable BCH blocks
and from codewords whose LDPC parity fails carry the transport_error_indicator. Input at
7.56 Msps, or any rate (e.g. a radio's 10 Msps) through the SRRC matched filter; a SigMF
file's rate is used when ``--rate`` is not given.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from sdrcast.errors import ConfigError
from sdrcast.phy.dtmb import DtmbReceiver
from sdrcast.phy.dtmb.config import SYMBOL_RATE
from sdrcast.runtime import Block, Chunk


class DtmbRxBlock(Block):
    """Complex samples in (7.56 Msps, or any rate the SRRC matched filter brings there), TS
    bytes out; the receiver's counters are the block's. ``live``: drop frames (counted) rather
    than fall behind the signal."""

    def __init__(self, sample_rate: float = SYMBOL_RATE, live: bool = False,
                 name: str = "dtmb_rx"):
        super().__init__(name)
        self.rx = DtmbReceiver(sample_rate, live=live)

    def _sync_counters(self) -> None:
        self.counters.update(self.rx.counters_now())

    def process(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        for c in chunks:
            self.poll()
            ts = self.rx.push(c.data)
            self._sync_counters()
            if ts.size:
                yield Chunk(ts)
        ts = self.rx.flush()
        self._sync_counters()
        if ts.size:
            yield Chunk(ts)

    def close(self) -> None:
        self.rx.close()


def main(argv: list[str] | None = None) -> int:
    from sdrcast.flowgraphs.common import flowgraph_main

    return flowgraph_main("sdrcast.flowgraphs.dtmb_rx", __doc__, add_arguments, run_from_args, argv)


def add_arguments(ap: argparse.ArgumentParser) -> None:
    from sdrcast.flowgraphs.common import add_receiver_source_arguments

    ap.add_argument("--input", required=True, help="sample file, -, zmq+sub://…, soapy:ARGS")
    ap.add_argument("--output", required=True, help="TS file, -, or udp://host:port")
    ap.add_argument("--rate", type=float, help="sample rate in Hz (default: the SigMF file's, "
                    "else 7.56e6; other rates go through the SRRC matched filter)")
    add_receiver_source_arguments(ap)
    ap.add_argument("--quiet", action="store_true", help="no status line")
    ap.add_argument("--report", help="write the receiver report (per-frame sync, SNR, CFO, SCO, "
                    "decoder counters) as JSON here")


def run_from_args(args) -> int:
    from sdrcast.flowgraphs.common import (
        check_writable,
        finish,
        is_live,
        parse_gain,
        write_report,
    )
    from sdrcast.runtime import Flowgraph, Head
    from sdrcast.sdr_io import open_sink, open_source

    if args.rate is not None and not args.rate > 0:
        raise ConfigError(f"--rate {args.rate:g}: must be a sample rate > 0 Hz")
    check_writable(args.report)
    src = open_source(args.input, fmt=args.in_format, sample_rate=args.rate, freq=args.freq,
                      gain=parse_gain(args.gain), timeout=args.timeout)
    rate = args.rate or src.sample_rate or SYMBOL_RATE
    rx = DtmbRxBlock(rate, live=is_live(args.input))
    blocks = [src] + ([Head(int(round(args.duration * rate)))] if args.duration else [])
    snk = open_sink(args.output, kind="ts")
    stats = Flowgraph(status_interval=None if args.quiet else 1.0).connect(*blocks, rx, snk).run()
    rep = {**rx.rx.report(), "source": stats["blocks"][src.name]["counters"]}
    write_report(args.report, rep)
    cfg = rx.rx.cfg or (rx.rx.decoder.cfg if rx.rx.decoder else None)
    out_bytes = stats["blocks"]["dtmb_rx"]["items_out"]
    if cfg is not None:
        last = rep["frames_log"][-1] if rep["frames_log"] else {}
        print(f"DTMB {cfg.header} {'rotating ' if cfg.header_rotating else ''}C={cfg.carriers} "
              f"{cfg.constellation} {cfg.ldpc_rate} M={cfg.interleaver_unit}: CFO "
              f"{last.get('cfo_hz', 0):.0f} Hz, SCO {last.get('sco_ppm', 0):.1f} ppm, "
              f"{rep['frames']} frames ({rep['frames_erased']} erased, {rep['sync_losses']} sync "
              f"losses, {rep.get('frames_dropped', 0)} dropped), TS packets out "
              f"{out_bytes // 188}, LDPC failures {rep.get('ldpc_failures', 0)}, marked packets "
              f"{rep.get('ts_packets_marked', 0)}", file=sys.stderr)
    return finish(stats, out_bytes,
                  "DTMB signal found, but no TS packet decoded (too short: the deinterleaver "
                  "needs about 0.3 s, or too weak)" if rx.rx.syncs else
                  f"no DTMB signal found in {rep['samples_in']} samples of {args.input} (no "
                  "PN420/595/945 frame header)")


if __name__ == "__main__":
    raise SystemExit(main())
