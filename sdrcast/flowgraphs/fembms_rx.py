"""FeMBMS (LTE-based 5G Broadcast) reception of a capture: cell search, MIB-MBMS, SIB1-MBMS,
MCCH, every MTCH's IP packets.

    sdrcast rx fembms --input capture.sigmf-data --output services.pcap --report rx.json
    sdrcast rx fembms --input dump.cf32 --rate 7.68e6 --output udp://
    sdrcast rx fembms --input zmq+sub://127.0.0.1:5555 --rate 7.68e6 --duration 2 --output -

The whole capture is read, then ``FembmsReceiver`` decodes it with no configuration. Output:
``x.pcap`` (raw IPv4), ``udp://`` (each packet's UDP payload re-sent to its own destination
group and port, multicast TTL 1), ``udp://HOST:PORT`` (every payload to that address) or ``-``
(the IPv4 datagrams back to back on stdout). What was found and every counter are printed,
and with ``--report`` written as JSON.
"""
from __future__ import annotations

import argparse
import socket
import struct
import sys


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--input", required=True, help="capture (.sigmf, .cf32/.cs16/.cs8/.cu8), zmq…, soapy:…")
    ap.add_argument("--output", required=True, help="x.pcap, udp://, udp://host:port, or -")
    ap.add_argument("--rate", type=float, default=7.68e6, help="sample rate when the input does not say "
                    "(the bandwidth's standard rate, 1.92-30.72 Msps)")
    ap.add_argument("--format", dest="in_format", choices=("cf32", "cs16", "cs8", "cu8"),
                    help="raw sample format when the extension does not say")
    ap.add_argument("--duration", type=float, help="radios and network streams: receive S s, then decode")
    ap.add_argument("--timeout", type=float,
                    help="network sources: fail if no data arrives, end after S s idle")
    ap.add_argument("--report", help="write the report as JSON")


def emit(packets: list[bytes], output: str) -> None:
    """IPv4 datagrams to a pcap file, back out over UDP, or to stdout."""
    if output.endswith(".pcap"):
        from sdrcast.sdr_io.payload import write_pcap

        write_pcap(output, packets)
        return
    if output == "-":
        sys.stdout.buffer.write(b"".join(packets))
        sys.stdout.buffer.flush()
        return
    if not output.startswith("udp://"):
        from sdrcast.errors import ConfigError

        raise ConfigError(f"--output {output!r}: use x.pcap, udp://, udp://HOST:PORT or -")
    from sdrcast.sdr_io.payload import parse_udp

    fixed = parse_udp(output) if output != "udp://" else None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        for p in packets:
            ihl = (p[0] & 0x0F) * 4
            if p[9] != 17 or len(p) < ihl + 8:
                continue  # not UDP: nothing to re-send
            dst = (socket.inet_ntoa(p[16:20]), struct.unpack(">H", p[ihl + 2:ihl + 4])[0])
            s.sendto(p[ihl + 8:], fixed or dst)


def run_from_args(args) -> int:
    from sdrcast.flowgraphs.common import NothingProduced, read_capture, write_report
    from sdrcast.phy.fembms.receiver import FembmsReceiver

    iq, rate = read_capture(args, "FeMBMS")
    packets, rep = FembmsReceiver(rate).demodulate(iq)
    emit(packets, args.output)
    f = rep["fec"]
    print(f"FeMBMS PCI {rep['pci']} ({rep['cp']} CP), {rep['n_rb']} RBs, MBSFN area {rep['mbsfn_area']}, "
          f"{rep['numerology']} kHz, carrier offset {rep['cfo_hz']:.1f} Hz, MER {rep['mer_db']} dB; "
          f"CAS {f['cas']['blocks'] - f['cas']['errors']}/{f['cas']['blocks']}, MCH "
          f"{f['mch']['blocks'] - f['mch']['errors']}/{f['mch']['blocks']} blocks; IP packets "
          f"{rep['payload']['packets']} {rep['payload']['per_lcid']}, RLC SNs lost "
          f"{rep['payload']['lost_sn']}", file=sys.stderr)
    write_report(args.report, rep)
    if not packets:
        raise NothingProduced("FeMBMS cell found, but no IP packet delivered")
    return 0
