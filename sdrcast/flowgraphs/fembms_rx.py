"""FeMBMS (LTE-based 5G Broadcast) reception: cell search, MIB-MBMS, SIB1-MBMS, MCCH, every
MTCH's IP packets — streaming, from a file, ZeroMQ or a radio.

    sdrcast rx fembms --input capture.sigmf-data --output services.pcap --report rx.json
    sdrcast rx fembms --input dump.cf32 --rate 7.68e6 --output udp://
    sdrcast rx fembms --input soapy:driver=uhd --rate 7.68e6 --freq 626e6 --output udp:// --duration 60

A SigMF recording says its sample rate; raw files, ZeroMQ and radios need ``--rate``.

Samples flow through ``FembmsReceiver`` as they arrive (memory stays bounded); packets leave as
they are completed: ``x.pcap`` (raw IPv4), ``udp://`` (each packet's UDP payload re-sent to its
own destination group and port, multicast TTL 1), ``udp://HOST:PORT`` (every payload to that
address) or ``-`` (the IPv4 datagrams back to back on stdout). A live source runs until
``--duration`` or Ctrl-C. What was found and every counter are printed at the end, and with
``--report`` written as JSON; ``--report-lines`` appends it as a JSON line per second of input
while the run goes on.
"""
from __future__ import annotations

import argparse
import socket
import struct
import sys

from sdrcast.runtime import Chunk, Sink


def add_arguments(ap: argparse.ArgumentParser) -> None:
    from sdrcast.flowgraphs.common import add_receiver_source_arguments

    ap.add_argument("--input", required=True, help="capture (.sigmf, .cf32/.cs16/.cs8/.cu8), zmq…, soapy:…")
    ap.add_argument("--output", required=True, help="x.pcap, udp://, udp://host:port, or -")
    ap.add_argument("--rate", type=float, help="sample rate: needed when the input does not say it (raw "
                    "files, ZeroMQ, radios); a multiple of 1.92 Msps, e.g. 7.68e6 for 5 MHz")
    add_receiver_source_arguments(ap)
    ap.add_argument("--report", help="write the report as JSON")
    ap.add_argument("--report-lines", help="append the report as one JSON line per second of input "
                    "(JSON lines, the last at the end), for monitoring while it runs")


class PacketOutput:
    """IPv4 datagrams out as they come: a pcap file, back over UDP, or stdout."""

    def __init__(self, spec: str):
        from sdrcast.errors import ConfigError

        self.spec, self.pcap, self.file, self.sock, self.fixed = spec, None, None, None, None
        if spec.endswith(".pcap"):
            from sdrcast.sdr_io.payload import PcapWriter

            self.pcap = PcapWriter(spec)
        elif spec == "-":
            self.file = sys.stdout.buffer
        elif spec.startswith("udp://"):
            from sdrcast.sdr_io.payload import parse_udp

            self.fixed = parse_udp(spec) if spec != "udp://" else None
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        else:
            raise ConfigError(f"--output {spec!r}: use x.pcap, udp://, udp://HOST:PORT or -")

    def write(self, packets: list[bytes]) -> None:
        if self.pcap is not None:
            self.pcap.write(packets)
        elif self.file is not None:
            self.file.write(b"".join(packets))
            self.file.flush()
        else:
            for p in packets:
                ihl = (p[0] & 0x0F) * 4
                if p[9] == 17 and len(p) >= ihl + 8:  # UDP: its payload to where it was going
                    dst = (socket.inet_ntoa(p[16:20]), struct.unpack(">H", p[ihl + 2:ihl + 4])[0])
                    self.sock.sendto(p[ihl + 8:], self.fixed or dst)

    def close(self) -> None:
        if self.pcap is not None:
            self.pcap.close()
        if self.sock is not None:
            self.sock.close()


class FembmsRxSink(Sink):
    """Samples in, ``FembmsReceiver`` behind, IP packets out through ``PacketOutput``; with
    ``lines``, the report appended to that file as a JSON line per second of input."""

    def __init__(self, rate: float, output: PacketOutput, lines: str | None = None, name: str = "fembms_rx"):
        from sdrcast.phy.fembms.receiver import FembmsReceiver

        super().__init__(name, rate)
        self.rx, self.output, self.packets = FembmsReceiver(rate), output, 0
        self.lines = open(lines, "w") if lines else None  # noqa: SIM115 - closed in finish()
        self.second, self.next_line = round(rate), round(rate)  # samples a line

    def _line(self) -> None:
        from sdrcast.flowgraphs.common import to_json

        self.lines.write(to_json(self.rx.report(), indent=None) + "\n")
        self.lines.flush()

    def _out(self, packets: list[bytes]) -> None:
        self.output.write(packets)
        self.packets += len(packets)
        self.counters["ip_packets"] = self.packets

    def consume(self, chunk: Chunk) -> None:
        self._out(self.rx.push(chunk.data))
        if self.lines is not None and self.rx.counters["samples_in"] >= self.next_line:
            self._line()
            self.next_line += self.second

    def finish(self) -> None:
        self._out(self.rx.flush())
        if self.lines is not None:
            self._line()
            self.lines.close()


def run_from_args(args) -> int:
    from sdrcast.errors import ConfigError, SyncLost
    from sdrcast.flowgraphs.common import check_writable, finish, parse_gain, write_report
    from sdrcast.runtime import Flowgraph, Head
    from sdrcast.sdr_io import open_source

    check_writable(args.report)
    check_writable(args.report_lines, "--report-lines")
    src = open_source(args.input, fmt=args.in_format, sample_rate=args.rate, freq=args.freq,
                      gain=parse_gain(args.gain), timeout=args.timeout)
    rate = src.sample_rate
    if not rate:
        raise ConfigError(f"--input {args.input}: its sample rate is not known; give --rate "
                          "(1.92e6, 3.84e6, 7.68e6, 15.36e6, 23.04e6 or 30.72e6)")
    out = PacketOutput(args.output)
    sink = FembmsRxSink(rate, out, args.report_lines)
    g = Flowgraph()
    g.connect(src, *([Head(round(args.duration * rate))] if args.duration else []), sink)
    try:
        stats = g.run()
    finally:
        out.close()
    rep = sink.rx.report()
    write_report(args.report, rep)
    if stats["interrupted"]:
        return finish(stats, sink.packets, "")
    if not sink.rx.synced_once:
        raise SyncLost(f"{sink.rx.no_signal} in {args.input} ({rep['samples_in']} samples)")
    f = rep["fec"]
    print(f"FeMBMS PCI {rep['pci']} ({rep['cp']} CP), {rep['n_rb']} RBs, MBSFN area {rep['mbsfn_area']}, "
          f"{rep['numerology']} kHz, carrier offset {rep['cfo_hz']} Hz, MER {rep['mer_db']} dB; "
          f"CAS {f['cas']['blocks'] - f['cas']['errors']}/{f['cas']['blocks']}, MCH "
          f"{f['mch']['blocks'] - f['mch']['errors']}/{f['mch']['blocks']} blocks; IP packets "
          f"{rep['payload']['packets']} {rep['payload']['per_lcid']}, RLC SNs lost "
          f"{rep['payload']['lost_sn']}; acquisitions {rep['acquisitions']}, losses {rep['sync_losses']}",
          file=sys.stderr)
    return finish(stats, sink.packets, "FeMBMS cell found, but no IP packet delivered")
