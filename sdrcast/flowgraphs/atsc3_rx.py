"""ATSC 3.0 reception of a capture file: acquisition, configuration from L1, every PLP decoded.

    sdrcast rx atsc3 --input capture.sigmf-data --output out.ts
    sdrcast rx atsc3 --input dump.cf32 --rate 6.912e6 --plp 1 --output - --report rx.json
    sdrcast rx atsc3 --input ip.cf32 --plp 1 --output services.pcap

The whole capture is read, then ``phy.atsc3.receiver.receive`` runs on it (the first frame
found, frames following each other, a nearly flat channel). ``--plp`` picks the PLP written
(default: the first); a ``.pcap`` output gets its IPv4 datagrams, anything else its TS bytes.
The configuration found and every counter are printed, and with ``--report`` written as JSON.
"""
from __future__ import annotations

import argparse
import sys


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--input", required=True, help="capture: .sigmf-data/-meta, .cf32/.cs16/.cs8/.cu8")
    ap.add_argument("--output", required=True, help="TS file, -, udp://host:port, or .pcap (IPv4)")
    ap.add_argument("--rate", type=float, default=6.912e6, help="sample rate ((N+16) x 0.384 MHz)")
    ap.add_argument("--plp", type=int, help="PLP to write (default: the first)")
    ap.add_argument("--ip", action="store_true", help="--plp carries IPv4 (not signalled in L1)")
    ap.add_argument("--format", dest="in_format", choices=("cf32", "cs16", "cs8", "cu8"),
                    help="raw sample format when the extension does not say")
    ap.add_argument("--max-cfo", type=float, default=50e3, help="carrier offset search (Hz)")
    ap.add_argument("--duration", type=float, help="radios and network streams: receive S s of "
                    "samples, then decode them (the receiver reads captures whole for now)")
    ap.add_argument("--timeout", type=float, help="network sources: fail if no data arrives, "
                    "end after S s idle")
    ap.add_argument("--report", help="write the report (acquisition, configuration, counters) as JSON")


def run_from_args(args) -> int:
    from sdrcast.errors import ConfigError
    from sdrcast.flowgraphs.common import NothingProduced, read_capture, write_report
    from sdrcast.phy.atsc3.receiver import Atsc3Receiver
    from sdrcast.runtime import run_block
    from sdrcast.sdr_io import open_sink
    from sdrcast.sdr_io.payload import write_pcap

    iq, rate = read_capture(args, "ATSC 3.0")
    payload, rep = Atsc3Receiver(rate, max_cfo_hz=args.max_cfo,
                                 ip_plps=(args.plp,) if args.ip else ()).demodulate(iq)
    plp = next(iter(payload)) if args.plp is None else args.plp
    if plp not in payload:
        raise ConfigError(f"--plp {plp}: the signal carries PLPs {sorted(payload)}")
    data = payload[plp]
    if args.output.endswith(".pcap"):
        from sdrcast.mac.ip import split_datagrams

        grams = data if isinstance(data, list) else split_datagrams(data)[0]
        write_pcap(args.output, [bytes(g) for g in grams])
    else:
        run_block(open_sink(args.output, kind="ts"), [data])
    print(f"ATSC 3.0 at sample {rep['start']}, carrier offset {rep['cfo_hz']:.1f} Hz, MER "
          f"{rep['mer_db']:.1f} dB, {rep['frames']} frames, L1 errors {rep['l1_errors']}",
          file=sys.stderr)
    for i, c in rep["plps"].items():
        print(f"PLP {i}: " + ", ".join(f"{k} {v}" for k, v in c.items()), file=sys.stderr)
    write_report(args.report, rep)
    if not len(data):
        raise NothingProduced(f"ATSC 3.0 found, but PLP {plp} delivered nothing")
    return 0
