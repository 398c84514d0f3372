"""What every flowgraph program shares: argument helpers, the guarded run with honest exit
codes, and report files.

Exit codes: 0 something useful was produced; 1 the run ended but produced nothing useful
(no signal found — ``SyncLost`` —, empty input); 2 bad input or arguments (one line naming the field);
130 interrupted (SIGINT or SIGTERM).
"""
from __future__ import annotations

import argparse
import json
import signal
import socket
import struct
import sys
from pathlib import Path

import numpy as np

from sdrcast.errors import ConfigError, SdrcastError, SyncLost

EXIT_OK, EXIT_NOTHING, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_LEVEL_DBFS = -15.0  # transmitters' output RMS: OFDM peaks (PAPR ~12 dB) stay below 0 dBFS
LIVE_PREFIXES = ("soapy:", "zmq+", "udp://")
# counters that say data was lost, cut or stuffed: printed at the end of every run
LOSS_COUNTERS = ("drop", "lost", "bad", "overflow", "underflow", "too_long", "stuff", "clipped")


class NothingProduced(SdrcastError):
    """The run ended without producing anything useful (exit 1)."""


def level_scale(level_dbfs: float | None, nominal_power: float) -> float | None:
    """Gain that puts a signal of mean power ``nominal_power`` at ``level_dbfs`` RMS (full
    scale = 1.0 per I/Q component); None keeps the signal as the transmitter makes it."""
    if level_dbfs is None:
        return None
    if not -60.0 <= level_dbfs <= 0.0:
        raise ConfigError(f"--level {level_dbfs:g}: allowed -60 to 0 dBFS (RMS)")
    return float(10 ** (level_dbfs / 20) / np.sqrt(nominal_power))


def add_level_argument(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--level", type=float, default=DEFAULT_LEVEL_DBFS,
                    help=f"output RMS in dBFS (default {DEFAULT_LEVEL_DBFS:g}; peaks of OFDM "
                    "run ~12 dB above it; clipped samples are counted and warned about)")


def add_receiver_source_arguments(ap: argparse.ArgumentParser) -> None:
    """The options of a streaming receiver's sample source (radios, raw files, network)."""
    ap.add_argument("--freq", type=float, help="radio centre frequency (Hz)")
    ap.add_argument("--gain", help="radio gain dB or NAME=dB,…")
    ap.add_argument("--format", dest="in_format", choices=("cf32", "cs16", "cs8", "cu8"),
                    help="raw sample format when the extension does not say")
    ap.add_argument("--duration", type=float, help="radios and streams: stop after S s of samples")
    ap.add_argument("--timeout", type=float, help="network sources: fail if no data arrives, "
                    "end after S s idle")


def is_live(spec: str) -> bool:
    """A source that runs at the signal's pace (radio, network) rather than a file or pipe."""
    return spec.startswith(LIVE_PREFIXES)


def parse_gain(text: str | None):
    """``30`` -> 30.0; ``LNA=20,VGA=10`` -> {"LNA": 20.0, "VGA": 10.0}."""
    if text is None:
        return None
    if "=" not in text:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"--gain {text!r}: expected dB or NAME=dB[,NAME=dB…]") from None
    out = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"--gain {text!r}: {part!r} is not NAME=dB") from None
    return out


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, set):
        return sorted(obj)
    return str(obj)


def to_json(obj, indent: int | None = 1) -> str:
    """JSON of a report (numpy scalars and arrays as plain numbers and lists)."""
    return json.dumps(obj, indent=indent, default=_json_default)


def check_writable(path: str | None, what: str = "--report") -> None:
    """Fail before a run, not after it, when ``path`` cannot be written."""
    if not path:
        return
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"{what} {path}: is a folder; give a file path")
    try:
        existed = p.exists()
        with open(p, "a"):
            pass
        if not existed:
            p.unlink()
    except OSError as exc:
        raise ConfigError(f"{what} {path}: cannot write ({exc.strerror})") from None


def warn_losses(stats: dict) -> None:
    """One line per block whose counters say data was lost, cut, stuffed or clipped (losses
    are never silent)."""
    for name, b in stats["blocks"].items():
        shown = {k: v for k, v in b["counters"].items() if v and any(w in k for w in LOSS_COUNTERS)}
        if shown:
            hint = "; clipped at full scale: lower --level" if "clipped" in shown else ""
            print(f"sdrcast: warning: {name}: " + ", ".join(f"{k} {v}" for k, v in shown.items())
                  + hint, file=sys.stderr)


def finish(stats: dict, produced: int, nothing: str) -> int:
    """A flowgraph run's exit code: 130 when interrupted, ``NothingProduced(nothing)`` when
    ``produced`` is 0, else 0; every loss counter is printed first."""
    warn_losses(stats)
    if stats["interrupted"]:
        print("sdrcast: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if not produced:
        raise NothingProduced(nothing)
    return EXIT_OK


def capture(src, samples: int | None = None) -> np.ndarray:
    """The first ``samples`` of a source (all of a file when None), streamed through a
    flowgraph: a radio or network source never ends by itself. Ctrl-C stops it."""
    from sdrcast.runtime import Flowgraph, Head, VectorSink

    sink = VectorSink("capture")
    g = Flowgraph()
    g.connect(src, *([Head(samples)] if samples is not None else []), sink)
    g.run()
    if g.interrupted:
        raise KeyboardInterrupt
    return sink.result().data.astype(np.complex64)


def read_capture(args, standard: str) -> tuple[np.ndarray, float]:
    """What a capture receiver decodes: ``--input`` read whole (a live source: ``--duration``
    seconds of it) at ``--rate`` unless the input says its rate -> (samples, rate). The report
    path is checked first, so a long capture is not lost to an unwritable ``--report``."""
    from sdrcast.sdr_io import open_source

    check_writable(args.report)
    if is_live(args.input) and not args.duration:
        raise ConfigError(f"--input {args.input}: a live source needs --duration S (the {standard} "
                          "receiver decodes a capture of S seconds; streaming is to come)")
    src = open_source(args.input, fmt=args.in_format, sample_rate=args.rate, timeout=args.timeout)
    rate = src.sample_rate or args.rate
    iq = capture(src, int(round(args.duration * rate)) if args.duration else None)
    if iq.size == 0:
        raise NothingProduced(f"{args.input}: no samples")
    return iq, rate


def write_report(path: str | None, report: dict) -> None:
    if path:
        Path(path).write_text(to_json(report))


def _sigterm(signum, frame):
    raise KeyboardInterrupt


def run_guarded(fn) -> int:
    """Run ``fn``; user errors become one line on stderr and exit 2, nothing produced exit 1,
    Ctrl-C or SIGTERM exit 130."""
    try:
        old = signal.signal(signal.SIGTERM, _sigterm)
    except ValueError:  # not the main thread
        old = None
    try:
        return fn()
    except (NothingProduced, SyncLost) as exc:  # ran, but no signal or nothing to show
        print(f"sdrcast: {exc}", file=sys.stderr)
        return EXIT_NOTHING
    except SdrcastError as exc:
        print(f"sdrcast: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("sdrcast: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


def flowgraph_main(module: str, doc: str, add_arguments, run, argv: list[str] | None) -> int:
    """``python -m sdrcast.flowgraphs.X``: parse with the flowgraph's own arguments and run."""
    ap = argparse.ArgumentParser(prog=f"python -m {module}", description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap)
    args = ap.parse_args(argv)
    return run_guarded(lambda: run(args))


class PacketOutput:
    """IPv4 datagrams out as they come: a pcap file, back over UDP, or stdout."""

    def __init__(self, spec: str):
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


class ReportLines:
    """A receiver's report appended to ``path`` as a JSON line per second of input (``tick``
    after each push), and a last one at the end (``close``); nothing when ``path`` is None."""

    def __init__(self, path: str | None, rate: float):
        self.file = open(path, "w") if path else None  # noqa: SIM115 - closed in close()
        self.second = self.next = round(rate)

    def _write(self, rx) -> None:
        self.file.write(to_json(rx.report(), indent=None) + "\n")
        self.file.flush()

    def tick(self, rx) -> None:
        if self.file is not None and rx.counters["samples_in"] >= self.next:
            self._write(rx)
            self.next += self.second

    def close(self, rx) -> None:
        if self.file is not None:
            self._write(rx)
            self.file.close()


def run_receiver(src, sink, args, rate: float, close, queue_depth: int = 8,
                 status: float | None = None) -> tuple[dict, dict]:
    """A streaming receiver's run: ``src`` (cut at ``--duration``) into ``sink`` (a sink
    holding the receiver as ``sink.rx``), ``close()`` after it, the report written to
    ``--report`` -> (flowgraph stats, report). ``SyncLost`` when no signal was found (unless
    interrupted)."""
    from sdrcast.runtime import Flowgraph, Head

    g = Flowgraph(queue_depth=queue_depth, status_interval=status)
    g.connect(src, *([Head(round(args.duration * rate))] if args.duration else []), sink)
    try:
        stats = g.run()
    finally:
        close()
    rep = sink.rx.report()
    write_report(args.report, rep)
    if not stats["interrupted"] and not sink.rx.synced_once:
        raise SyncLost(f"{sink.rx.no_signal} in {args.input} ({rep['samples_in']} samples)")
    return stats, rep
