"""``sdrcast monitor`` (run a station) and ``sdrcast monitor export`` (its history as CSV/JSON)."""
from __future__ import annotations

import sys
from pathlib import Path

from sdrcast.errors import ConfigError


def run(args) -> int:
    if args.action == "export":
        return _export(args)
    from sdrcast.flowgraphs.common import NothingProduced, check_writable, is_live
    from sdrcast.monitor.config import StationConfig, single_channel
    from sdrcast.monitor.station import Station

    station = {k: v for k, v in (("http", args.http), ("database", args.db), ("recordings", args.recordings),
                                 ("duration", args.duration)) if v is not None}
    if bool(args.config) == bool(args.input):
        raise ConfigError("give --config station.toml or --input SPEC (one channel)")
    if args.config:
        import dataclasses

        cfg = dataclasses.replace(StationConfig.load(args.config), **station)
    else:
        channel = {k: v for k, v in (("standard", args.standard), ("rate", args.rate), ("freq", args.freq),
                                     ("gain", args.gain), ("format", args.format)) if v is not None}
        cfg = single_channel(args.input, realtime=not args.as_fast, loop=args.loop, **channel, **station)
        if not is_live(args.input):  # one file: a bad path or format is the user's error (exit 2)
            from sdrcast.sdr_io import open_source

            open_source(args.input, fmt=args.format, sample_rate=args.rate).close()
    if not Path(cfg.database).exists():
        check_writable(cfg.database, "station.database")
    summary = Station(cfg).run()
    seconds = sum(summary["seconds"].values())
    print(f"monitor: {seconds} channel-seconds measured, {summary['alarms_raised']} alarms raised, "
          f"{summary['recordings']} recordings; history in {cfg.database}", file=sys.stderr)
    if not seconds:
        raise NothingProduced("no channel delivered a second of signal")
    return 0


def _export(args) -> int:
    from sdrcast.monitor.store import Store, export, parse_time

    db = args.db or "monitor.sqlite"
    if not Path(db).is_file():
        raise ConfigError(f"--db {db}: no such station database")
    t_from = parse_time(args.t_from) if args.t_from else 0.0
    t_to = parse_time(args.t_to) if args.t_to else 1e12
    if t_to < t_from:
        raise ConfigError(f"--from {args.t_from} is after --to {args.t_to}")
    text = export(Store(db), t_from, t_to, args.as_, args.channel)
    if args.output and args.output != "-":
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0
