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
import sys

from sdrcast.flowgraphs.common import PacketOutput
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


class FembmsRxSink(Sink):
    """Samples in, ``FembmsReceiver`` behind, IP packets out through ``PacketOutput``; with
    ``lines``, the report appended to that file as a JSON line per second of input."""

    def __init__(self, rate: float, output: PacketOutput, lines: str | None = None, name: str = "fembms_rx"):
        from sdrcast.flowgraphs.common import ReportLines
        from sdrcast.phy.fembms.receiver import FembmsReceiver

        super().__init__(name, rate)
        self.rx, self.output, self.packets = FembmsReceiver(rate), output, 0
        self.lines = ReportLines(lines, rate)

    def _out(self, packets: list[bytes]) -> None:
        self.output.write(packets)
        self.packets += len(packets)
        self.counters["ip_packets"] = self.packets

    def consume(self, chunk: Chunk) -> None:
        self._out(self.rx.push(chunk.data))
        self.lines.tick(self.rx)

    def finish(self) -> None:
        self._out(self.rx.flush())
        self.lines.close(self.rx)


def run_from_args(args) -> int:
    from sdrcast.errors import ConfigError
    from sdrcast.flowgraphs.common import check_writable, finish, parse_gain, run_receiver
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
    stats, rep = run_receiver(src, sink, args, rate, out.close)
    if stats["interrupted"]:
        return finish(stats, sink.packets, "")
    f = rep["fec"]
    print(f"FeMBMS PCI {rep['pci']} ({rep['cp']} CP), {rep['n_rb']} RBs, MBSFN area {rep['mbsfn_area']}, "
          f"{rep['numerology']} kHz, carrier offset {rep['cfo_hz']} Hz, MER {rep['mer_db']} dB; "
          f"CAS {f['cas']['blocks'] - f['cas']['errors']}/{f['cas']['blocks']}, MCH "
          f"{f['mch']['blocks'] - f['mch']['errors']}/{f['mch']['blocks']} blocks; IP packets "
          f"{rep['payload']['packets']} {rep['payload']['per_lcid']}, RLC SNs lost "
          f"{rep['payload']['lost_sn']}; acquisitions {rep['acquisitions']}, losses {rep['sync_losses']}",
          file=sys.stderr)
    return finish(stats, sink.packets, "FeMBMS cell found, but no IP packet delivered")
