"""ATSC 3.0 reception, streaming: from a file, ZeroMQ, stdin or a radio, every frame decoded as
it completes (``phy.atsc3.receiver.Atsc3Receiver``: acquisition, tracking, re-acquisition,
configuration from the bootstrap and L1).

    sdrcast rx atsc3 --input capture.sigmf-data --output out.ts --report rx.json
    sdrcast rx atsc3 --input dump.cf32 --rate 6.912e6 --plp 1 --ip --output services.pcap
    sdrcast rx atsc3 --input soapy:driver=hackrf --rate 8e6 --freq 593e6 --plp all --output udp://
    sdrcast rx atsc3 --input zmq+sub://127.0.0.1:5555 --rate 6.912e6 --output - | ffplay -

A SigMF recording says its sample rate; for raw files, ZeroMQ and radios give ``--rate`` (any
rate the source offers, resampled to the rate the bootstrap signals; 6.912 Msps by default).
``--plp`` picks the PLP (default: the first found) or ``all``. What a PLP carries is not
signalled in L1: its TS goes to a file, ``-`` or ``udp://HOST:PORT`` (7 packets a datagram);
with ``--ip`` (implied by ``x.pcap`` and ``udp://``) its IPv4 datagrams go to ``x.pcap``, back
to their own destination group and port (``udp://``), to ``udp://HOST:PORT`` or to ``-``.
With ``--plp all`` a TS output name must hold ``{plp}`` (one file per PLP). A live source runs
until ``--duration`` or Ctrl-C; the status line shows sync state, MER, LDPC failures per PLP
and x real time.
"""
from __future__ import annotations

import argparse
import math
import sys

from sdrcast.runtime import Chunk, Sink

LIVE_BUFFER_S = 1.0  # seconds of samples a live source may queue ahead of the receiver
DEFAULT_RATE = 6.912e6  # when neither the input nor --rate says


def add_arguments(ap: argparse.ArgumentParser) -> None:
    from sdrcast.flowgraphs.common import add_receiver_source_arguments

    ap.add_argument("--input", required=True,
                    help="capture (.sigmf, .cf32/.cs16/.cs8/.cu8), -, zmq…, soapy:…")
    ap.add_argument("--output", required=True, help="TS: file, -, udp://host:port; IP: x.pcap, udp://, -")
    ap.add_argument("--rate", type=float, help="sample rate when the input does not say it (default "
                    "6.912e6); any rate (resampled to the one the signal signals)")
    ap.add_argument("--plp", default=None, help="PLP id to deliver, or 'all' (default: the first)")
    ap.add_argument("--ip", action="store_true", help="the PLPs carry IPv4 (not signalled in L1)")
    ap.add_argument("--max-cfo", type=float, default=50e3, help="carrier offset search (Hz)")
    add_receiver_source_arguments(ap)
    ap.add_argument("--quiet", action="store_true", help="no status line")
    ap.add_argument("--report", help="write the report (sync, configuration, counters) as JSON")
    ap.add_argument("--report-lines", help="append the report as one JSON line per second of input")


def _plps(text: str | None) -> int | str | None:
    from sdrcast.errors import ConfigError

    if text is None or text == "all":
        return text
    try:
        plp = int(text)
    except ValueError:
        raise ConfigError(f"--plp {text!r}: a PLP id 0..63 or 'all'") from None
    if not 0 <= plp <= 63:
        raise ConfigError(f"--plp {plp}: a PLP id 0..63 or 'all'")
    return plp


class Atsc3RxSink(Sink):
    """Samples in, ``Atsc3Receiver`` behind, each delivered PLP's TS or IPv4 datagrams out to
    its writer; counters for the status line; the report as JSON lines (``lines``)."""

    def __init__(self, rate: float, output: str, plp: int | str | None, ip: bool,
                 max_cfo_hz: float = 50e3, lines: str | None = None, name: str = "atsc3_rx"):
        from sdrcast.flowgraphs.common import ReportLines
        from sdrcast.phy.atsc3.receiver import Atsc3Receiver

        super().__init__(name, rate)
        self.output, self.plp, self.ip = output, plp, ip
        self.rx = Atsc3Receiver(rate, max_cfo_hz=max_cfo_hz, ip_plps=range(64) if ip else (),
                                plps={None: "first", "all": None}.get(plp, (plp,)))
        self.writers: dict = {}
        self.delivered: dict[int, int] = {}  # PLP -> TS bytes or datagrams written
        self._shown = None  # (frames, sync state) the status counters show
        self.lines = ReportLines(lines, rate)

    def _writer(self, plp: int):
        from sdrcast.flowgraphs.common import PacketOutput
        from sdrcast.sdr_io import open_sink

        if plp not in self.writers:
            spec = self.output.replace("{plp}", str(plp))
            self.writers[plp] = PacketOutput(spec) if self.ip else open_sink(spec, kind="ts")
        return self.writers[plp]

    def _out(self, payload: dict) -> None:
        for plp, data in sorted(payload.items()):
            if self.plp is None:
                self.plp = plp  # the first PLP found
            if self.plp != "all" and plp != self.plp or not len(data):
                continue
            w = self._writer(plp)
            if self.ip:
                w.write([bytes(g) for g in data])
            else:
                w.consume(Chunk(data))
            self.delivered[plp] = self.delivered.get(plp, 0) + len(data)
        state = (self.rx.counters["frames"], self.rx.sync.state)
        if state != self._shown:  # the report costs about 0.4 ms: once a frame, not every chunk
            self._shown = state
            r = self.rx.report()
            fer = " ".join(f"{i}:{p['ldpc_failures']}/{p['fec_blocks']}"
                           for i, p in r.get("plps", {}).items())
            self.counters.update({"sync": r["sync_state"], "frames": r["frames"],
                                  "mer_db": round(r["last_mer_db"], 1) if r["last_mer_db"] else 0,
                                  "frames_lost": r["frames_lost"], "ldpc_failed": fer})
        self.lines.tick(self.rx)

    def consume(self, chunk: Chunk) -> None:
        self._out(self.rx.push(chunk.data))

    def finish(self) -> None:
        self._out(self.rx.flush())
        for w in self.writers.values():
            if hasattr(w, "finish"):
                w.finish()
        self.lines.close(self.rx)

    def close(self) -> None:
        self.rx.close()
        for w in self.writers.values():
            w.close()


def run_from_args(args) -> int:
    from sdrcast.errors import ConfigError
    from sdrcast.flowgraphs.common import check_writable, finish, is_live, parse_gain, run_receiver
    from sdrcast.sdr_io import open_source

    plp = _plps(args.plp)
    ip = args.ip or args.output.endswith(".pcap") or args.output == "udp://"
    if plp == "all" and not ip and "{plp}" not in args.output and args.output != "-":
        raise ConfigError(f"--output {args.output}: with --plp all, TS goes to one file per PLP; "
                          "put {plp} in the name (e.g. out-{plp}.ts)")
    if args.rate is not None and not args.rate > 0:
        raise ConfigError(f"--rate {args.rate:g}: must be a sample rate > 0 Hz")
    check_writable(args.report)
    check_writable(args.report_lines, "--report-lines")
    live = is_live(args.input)
    if live:  # before the radio streams: the kernels' first load would overflow it
        from sdrcast.phy.atsc3.receiver import warm_up

        warm_up()
    src = open_source(args.input, fmt=args.in_format, sample_rate=args.rate, freq=args.freq,
                      gain=parse_gain(args.gain), timeout=args.timeout)
    rate = src.sample_rate or args.rate or DEFAULT_RATE
    sink = Atsc3RxSink(rate, args.output, plp, ip, args.max_cfo, args.report_lines)
    # a live source queues up to LIVE_BUFFER_S of samples while a frame (and, at the start,
    # the configuration) is decoded: bounded, and no overflow at the radio
    chunk = getattr(src, "chunk_size", 16384)
    depth = max(8, math.ceil(LIVE_BUFFER_S * rate / chunk)) if live else 8
    stats, rep = run_receiver(src, sink, args, rate, sink.close, depth, None if args.quiet else 1.0)
    if stats["interrupted"]:
        return finish(stats, sum(sink.delivered.values()), "")
    mer = f"{rep['mer_db']:.1f} dB" if rep["mer_db"] is not None else "-"
    print(f"ATSC 3.0 at sample {rep['start']}, carrier offset {rep['cfo_hz']:.1f} Hz, clock "
          f"{rep['sco_ppm'] or 0:.2f} ppm, MER {mer}, {rep['frames']} frames ({rep['frames_lost']} "
          f"lost, {rep['frames_cut']} cut at the end, {rep['sync_losses']} sync losses, "
          f"{rep['configuration_changes']} configuration changes), L1 errors {rep['l1_errors']}",
          file=sys.stderr)
    for i, c in rep["plps"].items():
        print(f"PLP {i}: " + ", ".join(f"{k} {v}" for k, v in c.items()), file=sys.stderr)
    carried = sorted(p["plp_id"] for sub in (rep["configuration"] or {}).get("subframes", ())
                     for p in sub["plps"])
    if plp not in (None, "all") and plp not in carried:
        raise ConfigError(f"--plp {plp}: the signal carries PLPs {carried}")
    ts = sum(c.get("ts_packets", 0) for c in rep["plps"].values())
    ip_in = sum(c.get("ipv4_packets", 0) for c in rep["plps"].values())
    hint = (f" (it carries {ts} TS packets, not IPv4: give a TS output without --ip)" if ip and ts
            else f" (it carries {ip_in} IPv4 packets: give --ip or a .pcap output)" if not ip and ip_in
            else "")
    return finish(stats, sum(sink.delivered.values()), f"ATSC 3.0 found, but PLP "
                  f"{plp if plp is not None else carried[:1]} delivered nothing{hint}")
