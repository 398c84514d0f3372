"""The ``sdrcast`` command."""
from __future__ import annotations

import argparse
import json
import sys
import textwrap

import numpy as np

from sdrcast import __version__
from sdrcast.errors import ConfigError
from sdrcast.flowgraphs.common import parse_gain, run_guarded
from sdrcast.standards import load, sweep_links, with_part


def _add_radio_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rate", type=float, help="sample rate in Hz (raw files, radios)")
    p.add_argument("--freq", type=float, help="centre frequency in Hz (radios, SigMF metadata)")
    p.add_argument("--gain", help="gain in dB, or per stage NAME=dB,NAME=dB (radios)")


def cmd_devices(args) -> int:
    from sdrcast.sdr_io.soapy import list_devices

    devices = list_devices(args.args)
    if not devices:
        print("no devices found")
        return 0
    for i, d in enumerate(devices):
        print(f"{i}: " + ", ".join(f"{k}={v}" for k, v in d.items()))
    return 0


def cmd_info(args) -> int:
    from sdrcast.sdr_io.files import read_meta, read_samples

    meta = read_meta(args.file, args.format, args.rate)
    iq, _ = read_samples(args.file, args.format, count=args.max_samples)
    power = np.abs(iq) ** 2
    info = {"file": args.file, "format": meta.format, "samples": meta.n_samples,
            "sample_rate": meta.sample_rate, "center_freq": meta.center_freq,
            "datetime": meta.datetime,
            "duration_s": meta.n_samples / meta.sample_rate if meta.sample_rate else None,
            "mean_power_dbfs": float(10 * np.log10(max(power.mean(), 1e-30))) if iq.size else None,
            "peak_power_dbfs": float(10 * np.log10(max(power.max(), 1e-30))) if iq.size else None,
            "annotations": len(meta.annotations), **meta.extra}
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for k, v in info.items():
            print(f"{k:>16}: {v}")
    return 0


def cmd_plot(args) -> int:
    from sdrcast.analysis import plots

    if args.kind == "channel":
        from sdrcast.channel.fading import TdlChannel

        ch = TdlChannel(args.file, args.rate or 10e6, args.doppler, seed=args.seed)
        print(f"wrote {plots.channel_response(ch, args.output, args.duration)}")
        return 0
    if args.kind == "error-rate":
        from pathlib import Path

        path = Path(args.file)
        state = json.loads((path / "sweep.json" if path.is_dir() else path).read_text())
        print(f"wrote {plots.error_rates(state['results'], args.output, state['params']['link'])}")
        return 0
    from sdrcast.sdr_io.files import read_samples

    iq, meta = read_samples(args.file, args.format, args.offset, args.count)
    rate = args.rate or meta.sample_rate
    if args.kind in ("spectrum", "waterfall") and not rate:
        raise ConfigError(f"{args.file}: the sample rate is unknown; pass --rate")
    freq = args.freq if args.freq is not None else meta.center_freq
    if args.kind == "spectrum":
        out = plots.spectrum(iq, rate, args.output, freq, title=args.file)
    elif args.kind == "waterfall":
        out = plots.waterfall(iq, rate, args.output, freq, title=args.file)
    else:
        out = plots.constellation(iq, args.output, title=args.file)
    print(f"wrote {out}")
    return 0


def _same_file(a: str, b: str) -> bool:
    """``a`` and ``b`` name the same file (SigMF: either half of the same recording)."""
    from pathlib import Path

    from sdrcast.sdr_io.files import sigmf_paths

    if "-" in (a, b) or "://" in a + b or a.startswith("soapy:") or b.startswith("soapy:"):
        return False
    pa, pb = (sigmf_paths(x)[0] if ".sigmf" in x else Path(x) for x in (a, b))
    return pa.resolve() == pb.resolve()


def cmd_convert(args) -> int:
    from sdrcast.flowgraphs.common import finish
    from sdrcast.runtime import Flowgraph, Head, Throttle
    from sdrcast.sdr_io import open_sink, open_source

    if _same_file(args.input, args.output):
        raise ConfigError(f"output {args.output!r} is the input file: writing it would destroy "
                          "the input; choose another output path")
    for name in ("num_samples", "duration", "rate", "timeout", "throttle"):
        v = getattr(args, name)
        if v is not None and not v > 0:
            raise ConfigError(f"--{name.replace('_', '-')} {v:g}: must be > 0")
    src = open_source(args.input, fmt=args.in_format, sample_rate=args.rate, freq=args.freq,
                      gain=parse_gain(args.gain), timeout=args.timeout, repeat=args.repeat)
    rate = args.rate or src.sample_rate
    blocks = [src]
    if args.num_samples or args.duration:
        if args.duration and not rate:
            raise ConfigError("--duration needs a known sample rate (--rate)")
        blocks.append(Head(args.num_samples or int(round(args.duration * rate))))
    if args.throttle:
        blocks.append(Throttle(args.throttle))
    snk = open_sink(args.output, fmt=args.out_format, sample_rate=rate, freq=args.freq,
                    gain=parse_gain(args.gain))
    g = Flowgraph(status_interval=None if args.quiet else 1.0)
    g.connect(*blocks, snk)
    stats = g.run()
    if args.stats:  # never into a sample stream on stdout
        print(json.dumps(stats, indent=2), file=sys.stderr if args.output == "-" else sys.stdout)
    written = stats["blocks"][snk.name]["items_in"]
    secs = f", {written / rate:.3f} s of signal" if rate else ""
    print(f"sdrcast: {written} samples to {args.output}{secs} in {stats['elapsed_s']:.2f} s",
          file=sys.stderr)
    return finish(stats, written, f"nothing sent: no input from {args.input}")


def cmd_sweep(args) -> int:
    from pathlib import Path

    from sdrcast.analysis import plots
    from sdrcast.analysis.sweep import executor_for, parse_range, run_sweep

    channel = {}
    if args.channel != "awgn":
        channel["profile"] = args.channel
        channel["doppler_hz"] = args.doppler
    for key in ("cfo_hz", "sco_ppm", "phase_noise_linewidth_hz"):
        if getattr(args, key):
            channel[key] = getattr(args, key)
    params = {"link": args.link, "snrs": parse_range(args.snr), "frames": args.frames,
              "min_errors": args.min_errors, "batch_frames": args.batch_frames,
              "seed": args.seed, "order": args.order, "channel": channel}
    if args.link == "fembms" and args.fembms:
        params["fembms"] = args.fembms
    if args.link == "atsc3":
        params.update({k: v for k, v in (("atsc3", args.atsc3), ("plp", args.plp)) if v is not None})
    if args.link == "dtmb" and args.dtmb:
        from sdrcast.config import load_mapping

        params["dtmb"] = args.dtmb if not args.dtmb.endswith((".toml", ".json")) else \
            load_mapping(args.dtmb)
    with executor_for(args.workers, args.cluster) as ex:
        rows = run_sweep(params, args.out, ex, progress=not args.quiet)
    out = Path(args.out)
    bounds = None
    if args.link == "reference" and args.channel == "awgn":
        import numpy as np
        import scipy.special

        x = np.array(params["snrs"])
        m = args.order
        ber = 2 / np.log2(m) * (1 - 1 / np.sqrt(m)) * scipy.special.erfc(
            np.sqrt(3 * 10 ** (x / 10) / (2 * (m - 1))))
        bounds = {f"uncoded {m}QAM BER, AWGN theory": (x.tolist(), ber.tolist())}
    plots.error_rates(rows, out / "error_rates.png", f"{args.link}, {args.channel}", bounds)
    print(f"{'SNR':>6} {'frames':>7} {'errors':>7} {'FER':>9} {'BER':>9}")
    for r in rows:
        print(f"{r['snr_db']:>6.2f} {r['frames']:>7} {r['frame_errors']:>7} {r['fer']:>9.2e} "
              f"{r['ber']:>9.2e}")
    print(f"results: {out / 'sweep.csv'}, {out / 'sweep.json'}, {out / 'error_rates.png'}")
    return 0


def cmd_identify(args) -> int:
    """Which standard is on air in the first ``--seconds`` of a recording or radio."""
    from sdrcast.flowgraphs.common import NothingProduced, capture, to_json
    from sdrcast.sdr_io import open_source

    if not args.seconds > 0:
        raise ConfigError(f"--seconds {args.seconds:g}: must be > 0")
    src = open_source(args.input, fmt=args.format, sample_rate=args.rate, freq=args.freq,
                      gain=parse_gain(args.gain), timeout=args.timeout)
    rate = args.rate or src.sample_rate
    if not rate:
        raise ConfigError(f"{args.input}: the sample rate is unknown; pass --rate")
    iq = capture(src, int(args.seconds * rate))
    found = [r for s in with_part("detect") if (r := load(s.detect)(iq, rate)) is not None]
    for r in found:
        print(to_json(r) if args.json else
              f"{r['standard']}: " + ", ".join(f"{k} {v}" for k, v in r.items() if k != "standard"))
    if not found:
        raise NothingProduced(f"no known standard in {iq.size} samples of {args.input} at "
                              f"{rate / 1e6:g} Msps (tried {[s.name for s in with_part('detect')]})")
    return 0


def cmd_monitor(args) -> int:
    from sdrcast.monitor.command import run

    return run(args)


def cmd_demo(args) -> int:
    from sdrcast.flowgraphs.demo import run_demo

    run_demo(args.out, args.quick, status=args.status)
    return 0


EXAMPLES = {
    "devices": """
        sdrcast devices                      # every SoapySDR device
        sdrcast devices --args driver=hackrf
    """,
    "info": """
        sdrcast info capture.sigmf-meta
        sdrcast info dump.cs8 --rate 10e6 --json
    """,
    "plot": """
        sdrcast plot capture.sigmf-data --kind spectrum -o spectrum.png
        sdrcast plot dump.cf32 --rate 6.912e6 --kind waterfall -o wf.png
        sdrcast plot tu6 --kind channel --rate 7.56e6 --doppler 30 -o tu6.png
        sdrcast plot sweep-dir --kind error-rate -o ber.png
    """,
    "convert": """
        sdrcast convert rec.cs16 rec.sigmf-data --rate 7.56e6 --freq 586e6
        sdrcast convert zmq+sub://127.0.0.1:5555 capture.sigmf-data --rate 6.912e6 --timeout 5
        sdrcast convert signal.sigmf-data soapy:driver=hackrf --freq 593e6 --gain 30 --repeat
        sdrcast convert soapy:driver=uhd,type=b200 rec.sigmf-data --rate 7.68e6 --freq 626e6 --duration 2
    """,
    "sweep": """
        sdrcast sweep reference --snr 0:20:1 --out /tmp/awgn
        sdrcast sweep reference-ldpc --snr 4:12:0.5 --channel tu6 --doppler 30 --frames 1000 --out tu6
        sdrcast sweep reference --snr 10:30:2 --cluster tcp://scheduler:8786 --out big
        sdrcast sweep dtmb --dtmb mode5 --snr 14:20:0.5 --frames 200 --out dtmb-mode5
        sdrcast sweep fembms --fembms 5mhz_1k25_mcs20 --snr 14:22:1 --frames 600 --out fembms-mcs20
        sdrcast sweep atsc3 --atsc3 mobile_fixed_tdm --plp 1 --snr 18:24:1 --frames 200 --out atsc3-plp1
    """,
    "tx": """
        sdrcast tx dtmb --preset mode6 --input in.ts --output dtmb.sigmf-data
        sdrcast tx dtmb --config cfg.toml --input udp://@239.1.1.1:5000 \\
            --output soapy:driver=hackrf --freq 586e6 --gain 30
        sdrcast tx dtmb --preset mode2 --input - --output zmq+pub://127.0.0.1:5555
        sdrcast tx atsc3 --config vectors/atsc3/<set>/config.toml --input in.ts --output atsc3.sigmf-data
        sdrcast tx atsc3 --preset fixed_16k_256nuc --input udp://@239.1.1.1:5000 \\
            --output soapy:driver=hackrf --freq 593e6 --gain 30
        sdrcast tx atsc3 --preset mobile_fixed_tdm --input 0=mobile.ts --input 1=fixed.ts \\
            --output atsc3.cf32
    """,
    "rx": """
        sdrcast rx dtmb --input capture.sigmf-data --output out.ts
        sdrcast rx dtmb --input dump.cs8 --output - | ffprobe -
        sdrcast rx dtmb --input zmq+sub://127.0.0.1:5555 --output udp://239.1.1.1:5000
        sdrcast rx atsc3 --input capture.sigmf-data --plp 1 --output out.ts --report rx.json
    """,
    "monitor": """
        sdrcast monitor --input capture.sigmf-data --as-fast --http ""
        sdrcast monitor --input soapy:driver=hackrf --rate 7.56e6 --freq 586e6 --gain 30
        sdrcast monitor --config station.toml
        sdrcast monitor export --db monitor.sqlite --from 2026-12-07T08:00:00Z --as csv -o day.csv
    """,
    "identify": """
        sdrcast identify capture.sigmf-data
        sdrcast identify dump.cs8 --rate 7.56e6 --json
        sdrcast identify soapy:driver=hackrf --rate 10e6 --freq 586e6 --seconds 0.5
    """,
    "demo": """
        sdrcast demo                         # writes demo-output/
        sdrcast demo --out /tmp/demo --quick
    """,
}


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="sdrcast", description="Software-defined radio for terrestrial broadcast: "
        "ATSC 3.0, DTMB, 5G Broadcast/FeMBMS.",
        epilog="Sources/sinks: a path (format by extension: .cf32 .cs16 .cs8 .cu8 .sigmf-data), "
        "-, udp://HOST:PORT, zmq+pub|sub|push|pull|req|rep://HOST:PORT[?pass_tags=1], soapy:ARGS.")
    ap.add_argument("--version", action="version", version=f"sdrcast {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    def add(name, fn, help_):
        p = sub.add_parser(name, help=help_, description=help_,
                           formatter_class=argparse.RawDescriptionHelpFormatter,
                           epilog="examples:" + textwrap.dedent(EXAMPLES[name]))
        p.set_defaults(fn=fn)
        return p

    p = add("devices", cmd_devices, "list SoapySDR devices")
    p.add_argument("--args", default="", help="filter, e.g. driver=hackrf")

    p = add("info", cmd_info, "describe a sample file (format, rate, duration, power)")
    p.add_argument("file")
    p.add_argument("--format", choices=("cf32", "cs16", "cs8", "cu8", "sigmf"))
    p.add_argument("--rate", type=float, help="sample rate for raw files")
    p.add_argument("--max-samples", type=int, default=1 << 24,
                   help="samples read for the power figures (default 16 Mi)")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add("plot", cmd_plot, "plot a sample file, a channel profile or a sweep to PNG")
    p.add_argument("file", help="sample file; channel profile name/JSON (--kind channel); "
                   "sweep folder or sweep.json (--kind error-rate)")
    p.add_argument("--kind", choices=("spectrum", "constellation", "waterfall", "channel",
                                      "error-rate"), default="spectrum")
    p.add_argument("-o", "--output", required=True, help="PNG path")
    p.add_argument("--format", choices=("cf32", "cs16", "cs8", "cu8", "sigmf"))
    p.add_argument("--rate", type=float)
    p.add_argument("--freq", type=float)
    p.add_argument("--offset", type=int, default=0, help="first sample")
    p.add_argument("--count", type=int, default=1 << 20, help="samples (default 1 Mi)")
    p.add_argument("--doppler", type=float, default=0.0, help="channel: max Doppler (Hz)")
    p.add_argument("--duration", type=float, default=1.0, help="channel: seconds shown")
    p.add_argument("--seed", type=int, default=0, help="channel: fading seed")

    p = add("sweep", cmd_sweep, "BER/FER against SNR through the channel emulator, with plots")
    p.add_argument("link", choices=sweep_links())
    p.add_argument("--dtmb", help="DTMB preset (mode1..mode7) or config file (default: PN420 "
                   "64QAM 0.6, interleaver mode 1)")
    p.add_argument("--fembms", help="FeMBMS preset (default 5mhz_1k25_mcs9)")
    p.add_argument("--atsc3", help="ATSC 3.0 preset (default mobile_fixed_tdm)")
    p.add_argument("--plp", type=int, help="ATSC 3.0: the PLP measured (default: the first)")
    p.add_argument("--snr", required=True, help="Es/N0 dB as START:STOP:STEP or a comma list")
    p.add_argument("--channel", default="awgn", help="awgn, or a profile: tu6 ra6 epa eva etu "
                   "echo_0db sfn_long or a JSON file")
    p.add_argument("--doppler", type=float, default=0.0, help="max Doppler (Hz)")
    p.add_argument("--cfo-hz", dest="cfo_hz", type=float, default=0.0)
    p.add_argument("--sco-ppm", dest="sco_ppm", type=float, default=0.0)
    p.add_argument("--phase-noise", dest="phase_noise_linewidth_hz", type=float, default=0.0,
                   help="Wiener phase noise linewidth (Hz)")
    p.add_argument("--frames", type=int, default=1000, help="frame budget per point")
    p.add_argument("--min-errors", type=int, default=100, help="stop a point at N frame errors")
    p.add_argument("--batch-frames", type=int, default=20, help="frames per task")
    p.add_argument("--order", type=int, default=16, help="QAM order of the reference link")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2, help="local processes")
    p.add_argument("--cluster", help="Dask scheduler address, e.g. tcp://host:8786")
    p.add_argument("--out", required=True, help="results folder (a rerun resumes)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = add("convert", cmd_convert, "stream samples from any source to any sink")
    p.add_argument("input")
    p.add_argument("output")
    _add_radio_args(p)
    p.add_argument("--in-format", choices=("cf32", "cs16", "cs8", "cu8"))
    p.add_argument("--out-format", choices=("cf32", "cs16", "cs8", "cu8"))
    p.add_argument("--num-samples", type=int, help="stop after N samples")
    p.add_argument("--duration", type=float, help="stop after S seconds of samples")
    p.add_argument("--timeout", type=float, default=None,
                   help="network sources: fail if no data, end after S s idle")
    p.add_argument("--repeat", action="store_true", help="loop a file source")
    p.add_argument("--throttle", type=float, metavar="RATE",
                   help="pace the stream at RATE samples/s (as GNU Radio's throttle), e.g. to "
                   "feed a file to a ZeroMQ receiver in real time")
    p.add_argument("--quiet", action="store_true", help="no status line")
    p.add_argument("--stats", action="store_true", help="print JSON stats at the end")

    # tx/rx STANDARD: the standard's own arguments are added when it is chosen (main), so
    # building this parser loads no standard
    for cmd, help_ in (("tx", "transmit a standard: TS/IP in, baseband out"),
                       ("rx", "receive a standard: baseband in, TS/IP out (no configuration)")):
        std = add(cmd, None, help_).add_subparsers(dest="standard", metavar="STANDARD",
                                                    required=True)
        for s in with_part(cmd):
            std.add_parser(s.name, help=getattr(s, f"{cmd}_help"), add_help=False).set_defaults(
                flowgraph=getattr(s, cmd), about=getattr(s, f"{cmd}_help"))

    p = add("identify", cmd_identify, "which standard is on air, and its configuration")
    p.add_argument("input", help="sample file, zmq+sub://…, soapy:ARGS")
    _add_radio_args(p)
    p.add_argument("--format", choices=("cf32", "cs16", "cs8", "cu8"))
    p.add_argument("--seconds", type=float, default=1.0, help="signal looked at (default 1 s)")
    p.add_argument("--timeout", type=float, help="network sources: fail if no data")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add("monitor", cmd_monitor, "watch channels: RF, FEC, TS (TR 101 290) and IP quality, "
            "alarms, history, Prometheus, web page")
    p.add_argument("action", nargs="?", choices=("run", "export"), default="run",
                   help="run a station (default), or export its history")
    p.add_argument("--config", help="station TOML ([station], [[channels]], [[alarms]]; docs/monitor.md)")
    p.add_argument("--input", help="watch one channel: a file, zmq+sub://…, soapy:ARGS")
    p.add_argument("--standard", choices=("auto", "atsc3", "dtmb", "fembms"),
                   help="--input: the standard (default: identified)")
    _add_radio_args(p)
    p.add_argument("--format", choices=("cf32", "cs16", "cs8", "cu8"), help="--input: raw sample format")
    p.add_argument("--as-fast", action="store_true", help="files: decode as fast as possible "
                   "(default: played in real time)")
    p.add_argument("--loop", action="store_true", help="files: start again at the end")
    p.add_argument("--http", help="web page and /metrics at HOST:PORT (default 127.0.0.1:8080; "
                   "\"\" for none)")
    p.add_argument("--db", help="SQLite history (default monitor.sqlite)")
    p.add_argument("--recordings", help="folder of the alarm recordings (default recordings)")
    p.add_argument("--duration", type=float, help="stop after S seconds")
    p.add_argument("--from", dest="t_from", help="export: from (ISO 8601 or epoch seconds)")
    p.add_argument("--to", dest="t_to", help="export: to")
    p.add_argument("--channel", help="export: one channel")
    p.add_argument("--as", dest="as_", choices=("csv", "json"), default="csv", help="export format")
    p.add_argument("-o", "--output", help="export: file (default stdout)")

    p = add("demo", cmd_demo, "run every link through the channel emulator; summary and plots")
    p.add_argument("--out", default="demo-output", help="output folder (default demo-output)")
    p.add_argument("--quick", action="store_true", help="fewer frames")
    p.add_argument("--status", action="store_true", help="print a status line every second")
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args, rest = ap.parse_known_args(argv)
    if getattr(args, "flowgraph", None):  # tx|rx STANDARD: parse with its flowgraph's arguments
        module = load(args.flowgraph)
        fp = argparse.ArgumentParser(prog=f"sdrcast {args.command} {args.standard}",
                                     description=args.about,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="examples:" + textwrap.dedent(EXAMPLES[args.command]))
        module.add_arguments(fp)
        fargs = fp.parse_args(rest)
        return run_guarded(lambda: module.run_from_args(fargs))
    if rest:
        ap.error(f"unrecognized arguments: {' '.join(rest)}")
    if not getattr(args, "fn", None):
        ap.print_help()
        return 2
    return run_guarded(lambda: args.fn(args))
