"""FeMBMS (LTE-based 5G Broadcast) transmitter flowgraph: IP sources per MTCH ->
FembmsTxBlock -> sample sink.

    sdrcast tx fembms --preset 5mhz_1k25_mcs9 --input gen --duration 2 --output out.sigmf-data
    sdrcast tx fembms --config cfg.toml --input 1=udp://@239.1.1.1:5000 --output soapy:driver=hackrf \\
        --freq 626e6 --gain 30
    sdrcast tx fembms --preset vector_mtch_ip --input 2=capture.pcap --output out.cf32

``--input SPEC`` feeds the first session; ``--input LCID=SPEC`` (repeatable) any session: ``gen``
(generated UDP test traffic at 80 % of the PMCH's capacity, ``--duration`` seconds),
``udp://[@]GROUP:PORT`` (each datagram rebuilt as IPv4/UDP with correct checksums) or a .pcap
capture of IPv4. Sessions without input carry padding. Output at the bandwidth's standard rate
(1.92-30.72 Msps) or ``--rate`` (resampled). Each chunk is a run of whole subframes; a
``frame_start`` tag (value: the SFN) marks every radio frame. Live operation (udp:// input or
``--live``): subframes leave by the clock whatever the input does (padding when it is short;
beyond the queue bound the oldest packets are dropped and counted). Otherwise subframes leave
as input fills them, and the end of input completes the MCH scheduling period, so a recording
loops into a valid carrier.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np

from sdrcast.errors import ConfigError
from sdrcast.flowgraphs.common import (
    DEFAULT_LEVEL_DBFS,
    add_level_argument,
    finish,
    flowgraph_main,
    parse_gain,
)
from sdrcast.flowgraphs.tx_block import TxBlock
from sdrcast.phy.fembms.config import FembmsConfig
from sdrcast.phy.fembms.transmitter import FembmsTransmitter
from sdrcast.runtime import Chunk, Source

SUBFRAMES_PER_CHUNK = 10


class FembmsTxBlock(TxBlock):
    """IPv4 datagrams in (back to back, tagged ``lcid``; untagged: the first session), complex
    baseband out in runs of whole subframes, ``frame_start`` (SFN) at each radio frame."""

    def __init__(self, cfg: FembmsConfig, live: bool = False, clock: Callable[[], float] = time.monotonic,
                 level_dbfs: float | None = None, name: str = "fembms_tx"):
        super().__init__(FembmsTransmitter(cfg), name, level_dbfs)
        self.first = cfg.sessions[0].lcid
        self.live, self.clock, self.t0 = live, clock, None
        self.tick_s = 0.005 if live else None
        self.ratio = cfg.rate / cfg.standard_rate

    def _chunk(self, iq: np.ndarray, tti0: int) -> Chunk:
        per = self.tx.subframe_samples * self.ratio
        starts = [round((t - tti0) * per) for t in range(tti0, self.tx.tti) if t % 10 == 0]
        sfns = [(t // 10) % 1024 for t in range(tti0, self.tx.tti) if t % 10 == 0]
        self.counters.update({"subframes": self.tx.tti, **{f"{k}_subframes": v for k, v in
                                                           self.tx.subframes_sent.items()},
                              **{k: v for k, v in self.tx.report().items() if k != "subframes"}})
        return self.emit(iq, starts, sfns)

    def _send(self, n: int) -> Iterator[Chunk]:
        while n > 0:
            k = min(n, SUBFRAMES_PER_CHUNK)
            tti0 = self.tx.tti
            yield self._chunk(self.tx.subframes(k), tti0)
            n -= k

    def process(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        from sdrcast.mac.ip import split_datagrams

        for c in chunks:
            self.poll()
            if len(c):
                grams, rest = split_datagrams(c.data)
                if rest:
                    self.counters.add("bytes_not_ipv4", rest)
                lcid = c.tag("lcid", self.first)
                tti0 = self.tx.tti
                iq = self.tx.push([(lcid, g.tobytes()) for g in grams])
                if iq.size:
                    yield self._chunk(iq, tti0)
            if self.live:
                now = self.clock()
                self.t0 = now if self.t0 is None else self.t0
                yield from self._send(int((now - self.t0) * 1000) - self.tx.tti)
        if not self.live:
            tti0 = self.tx.tti
            iq = self.tx.flush()
            if iq.size:
                yield self._chunk(iq, tti0)


def counting_payload(k: int, size: int) -> bytes:
    """Test datagram ``k``'s payload: its number (4 bytes) then bytes counting up from k."""
    return k.to_bytes(4, "big") + ((np.arange(size - 4) + k) & 0xFF).astype(np.uint8).tobytes()


class GeneratedTraffic(Source):
    """UDP test datagrams (counter + pattern payload, 10.0.0.1 -> 239.255.0.LCID:5000) at
    ``bitrate`` for ``duration`` seconds of carrier, as fast as the flowgraph takes them."""

    def __init__(self, lcid: int, bitrate: float, duration: float, size: int = 1200):
        super().__init__(f"gen_lcid{lcid}")
        self.lcid, self.size = lcid, size
        self.count = max(1, int(bitrate * duration / 8 / (size + 28)))

    def generate(self) -> Iterator[Chunk]:
        from sdrcast.mac.ip import udp_datagram

        for i in range(0, self.count, 16):
            if self.stopping:
                return
            grams = [udp_datagram(counting_payload(k, self.size), ("10.0.0.1", 4000),
                                  (f"239.255.0.{self.lcid}", 5000), ident=k & 0xFFFF)
                     for k in range(i, min(i + 16, self.count))]
            yield Chunk(np.frombuffer(b"".join(grams), np.uint8).copy())


def config_from_args(config: str | None, preset: str | None) -> FembmsConfig:
    if config and preset:
        raise ConfigError("give --config or --preset, not both")
    return FembmsConfig.load(config) if config else FembmsConfig.preset(preset or "5mhz_1k25_mcs9")


def parse_inputs(cfg: FembmsConfig, specs: list[str]) -> dict[int, str]:
    """``["gen"]`` or ``["1=gen", "2=udp://@239.1.1.1:5000"]`` -> {lcid: spec}."""
    lcids = [s.lcid for s in cfg.sessions]
    out: dict[int, str] = {}
    for spec in specs:
        head, sep, rest = spec.partition("=")
        lcid, spec = (int(head), rest) if sep and head.isdigit() else (lcids[0], spec)
        if lcid not in lcids:
            raise ConfigError(f"--input {lcid}=…: no session has lcid {lcid} (sessions {lcids})")
        if lcid in out:
            raise ConfigError(f"--input: lcid {lcid} is given twice")
        out[lcid] = spec
    return out


def describe(cfg: FembmsConfig, tx: FembmsTransmitter) -> str:
    share = cfg.mch_subframes / (10 * cfg.period_frames)  # MBSFN subframes per ms
    pm = ", ".join(f"PMCH {i} MCS {p.data_mcs} ({p.mcs_table}) TBS {t * 8} bit = "
                   f"{t * 8 * share / 1e3:.2f} Mbit/s, LCIDs {[s.lcid for s in p.sessions]}"
                   for i, (p, t) in enumerate(zip(cfg.pmchs, tx.scheduler.tbs, strict=True)))
    return (f"FeMBMS {cfg.bandwidth_mhz:g} MHz ({cfg.n_rb} PRB), PCI {cfg.pci}, MBSFN area {cfg.area_id}, "
            f"{cfg.numerology} kHz PMCH, CAS {cfg.cas_cp} CP, {cfg.rate / 1e6:g} Msps; {pm}")


def run(cfg: FembmsConfig, inputs: dict[int, str], output_spec: str, freq: float | None = None,
        gain=None, status: bool = True, repeat: bool = False, live: bool | None = None,
        duration: float = 1.0, level_dbfs: float | None = DEFAULT_LEVEL_DBFS) -> dict:
    from sdrcast.runtime import Flowgraph, Label
    from sdrcast.sdr_io import open_sink, open_source

    live = any(s.startswith("udp://") for s in inputs.values()) if live is None else live
    block = FembmsTxBlock(cfg, live, level_dbfs=level_dbfs)
    g = Flowgraph(status_interval=1.0 if status else None)
    snk = open_sink(output_spec, sample_rate=cfg.rate, freq=freq, gain=gain)
    for lcid, spec in inputs.items():
        if spec == "gen":
            pmch = next(i for i, p in enumerate(cfg.pmchs) if lcid in [s.lcid for s in p.sessions])
            rate = 0.8 * block.tx.scheduler.tbs[pmch] * 8 * 1000 / len(cfg.pmchs[pmch].sessions)
            src = GeneratedTraffic(lcid, rate * cfg.mch_subframes / (10 * cfg.period_frames), duration)
        else:
            src = open_source(spec, kind="ip", repeat=repeat, name=f"lcid{lcid}_source")
        g.connect(src, Label("lcid", lcid, name=f"lcid{lcid}"), block, snk)
    return g.run()


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--config", help="TOML/JSON FembmsConfig (see docs/fembms.md)")
    ap.add_argument("--preset", help="a preset name (default 5mhz_1k25_mcs9; see docs/fembms.md)")
    ap.add_argument("--input", action="append", default=None,
                    help="[LCID=]SPEC, repeatable: gen, udp://[@]group:port, capture.pcap (default gen)")
    ap.add_argument("--output", required=True, help="sample file, -, zmq+pub://…, soapy:ARGS")
    ap.add_argument("--duration", type=float, default=1.0, help="seconds of generated traffic (gen)")
    ap.add_argument("--rate", type=float, help="output sample rate (default: the bandwidth's "
                    "standard rate); others are resampled")
    ap.add_argument("--freq", type=float, help="centre frequency (Hz) for radios and SigMF")
    ap.add_argument("--gain", help="radio gain dB or NAME=dB,…")
    ap.add_argument("--repeat", action="store_true", help="loop pcap inputs")
    ap.add_argument("--live", action="store_true", help="subframes by the clock, padding when "
                    "input is short (default for udp:// input)")
    ap.add_argument("--quiet", action="store_true", help="no status line")
    add_level_argument(ap)


def main(argv: list[str] | None = None) -> int:
    return flowgraph_main("sdrcast.flowgraphs.fembms_tx", __doc__, add_arguments, run_from_args, argv)


def run_from_args(args) -> int:
    cfg = config_from_args(args.config, args.preset)
    if args.rate:
        cfg = replace(cfg, sample_rate=args.rate)
    if not args.duration > 0:
        raise ConfigError(f"--duration={args.duration} must be positive")
    inputs = parse_inputs(cfg, args.input or ["gen"])
    print(describe(cfg, FembmsTransmitter(cfg)), file=sys.stderr)
    stats = run(cfg, inputs, args.output, args.freq, parse_gain(args.gain), not args.quiet,
                args.repeat, True if args.live else None, args.duration, args.level)
    c = stats["blocks"]["fembms_tx"]["counters"]
    print(f"subframes out: {c.get('subframes', 0)} (CAS {c.get('cas_subframes', 0)}, MCCH "
          f"{c.get('mcch_subframes', 0)}, data {c.get('data_subframes', 0)}, padding "
          f"{c.get('padding_subframes', 0)}); IP packets sent {c.get('packets_sent', 0)}, dropped "
          f"{c.get('packets_dropped', 0)}", file=sys.stderr)
    return finish(stats, c.get("packets_sent", 0),
                  f"nothing sent: no IP packets from {', '.join(inputs.values())}")


if __name__ == "__main__":
    raise SystemExit(main())
