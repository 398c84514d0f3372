"""Parse source/sink specs into blocks.

=====================================  ===========================================================
spec                                   meaning
=====================================  ===========================================================
``path.cf32`` ``.cs16`` ``.cs8``        raw sample file (format from the extension, or ``fmt``)
``.cu8`` ``.sigmf-data``/``-meta``      SigMF recording
``path.ts``                            MPEG-TS file (``kind="ts"``)
``path.pcap``                          IPv4 datagrams of a pcap capture (``kind="ip"``)
``-``                                  stdin / stdout (raw cf32 unless ``fmt``; TS for ``kind="ts"``)
``udp://host:port``, ``udp://@grp:p``  TS over UDP, or (``kind="ip"``) each datagram as IPv4/UDP;
                                       ``@`` listens on a multicast group
``zmq+pub://host:port`` (and ``sub``,  ZeroMQ as GNU Radio gr-zeromq (tcp). Query options:
``push``, ``pull``, ``req``, ``rep``)   ``?pass_tags=1&hwm=N&bind=0|1&key=K&timeout=S``
``soapy:ARGS``                         SoapySDR device (``driver=hackrf``, ``driver=uhd,type=b200``)
=====================================  ===========================================================
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import numpy as np

from sdrcast.errors import ConfigError
from sdrcast.runtime.block import Sink, Source

KINDS = ("samples", "ts", "ip")
_ZMQ_SOURCES = ("sub", "pull", "req")
_ZMQ_SINKS = ("pub", "push", "rep")


def _zmq(spec: str, allowed: tuple[str, ...], direction: str):
    scheme, _, rest = spec.partition("://")
    pattern = scheme.removeprefix("zmq+")
    if pattern not in allowed:
        raise ConfigError(f"{spec!r}: ZeroMQ pattern {pattern!r} cannot be a {direction}; "
                          f"use one of {[f'zmq+{p}://' for p in allowed]}")
    parts = urlsplit("tcp://" + rest)
    try:
        port = parts.port
    except ValueError:  # not a number, or beyond 65535
        port = None
    if not parts.hostname or not port:
        raise ConfigError(f"bad ZeroMQ address {spec!r}; expected zmq+{pattern}://HOST:PORT "
                          "with PORT 1..65535")
    opts = dict(parse_qsl(parts.query))
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    address = f"tcp://{host}:{port}"
    known = {"pass_tags", "hwm", "bind", "key", "timeout"}
    if set(opts) - known:
        raise ConfigError(f"{spec!r}: unknown option(s) {sorted(set(opts) - known)}; "
                          f"allowed {sorted(known)}")
    kw = {"pass_tags": opts.get("pass_tags", "0") in ("1", "true", "yes")}
    if "hwm" in opts:
        kw["hwm"] = _option(spec, opts, "hwm", int, -1, "an integer (messages, -1 for the "
                            "ZeroMQ default)")
    if "bind" in opts:
        kw["bind"] = opts["bind"] in ("1", "true", "yes")
    if "key" in opts:
        kw["key"] = opts["key"]
    timeout = (_option(spec, opts, "timeout", float, 1e-3, "seconds >= 0.001")
               if "timeout" in opts else None)
    return pattern, address, kw, timeout


def _option(spec: str, opts: dict, key: str, kind: type, lo: float, allowed: str):
    """A numeric address option, or one line naming it and what is allowed."""
    try:
        value = kind(opts[key])
    except ValueError:
        value = None
    if value is None or not value >= lo:
        raise ConfigError(f"{spec!r}: {key}={opts[key]!r}; allowed {allowed}")
    return value


def _soapy_kw(spec: str, rate: float | None, freq, gain, what: str) -> dict:
    if not rate:
        raise ConfigError(f"{spec!r}: a SoapySDR {what} needs a sample rate (--rate)")
    if not rate > 0:
        raise ConfigError(f"--rate {rate:g}: a sample rate must be > 0 Hz")
    return {"args": spec.removeprefix("soapy:"), "rate": rate, "freq": freq, "gain": gain}


def open_source(spec: str, kind: str = "samples", fmt: str | None = None,
                sample_rate: float | None = None, freq: float | None = None, gain=None,
                chunk_size: int = 65536, repeat: bool = False, timeout: float | None = None,
                **kw) -> Source:
    """A source block for ``spec`` (see the module table). ``timeout`` (s) ends network sources
    after that long without data, and fails them if nothing arrives at all."""
    if kind not in KINDS:
        raise ConfigError(f"kind={kind!r} is not allowed; choose one of {list(KINDS)}")
    if spec.startswith("soapy:"):
        if kind != "samples":
            raise ConfigError(f"{spec!r}: a radio delivers samples, not {kind}")
        from sdrcast.sdr_io.soapy import SoapySource

        if timeout is not None:
            kw.setdefault("stall_s", timeout)
        return SoapySource(**_soapy_kw(spec, sample_rate, freq, gain, "source"),
                           chunk_size=min(chunk_size, 1 << 16), **kw)
    if spec.startswith("zmq+"):
        from sdrcast.sdr_io.zmq import ZmqSource

        if kind == "ip":
            raise ConfigError(f"{spec!r}: IP input comes from udp:// or a .pcap file")
        pattern, address, zkw, t = _zmq(spec, _ZMQ_SOURCES, "source")
        t = t if t is not None else timeout
        return ZmqSource(address, pattern, np.uint8 if kind == "ts" else np.complex64,
                         idle_timeout=t, connect_timeout=t, sample_rate=sample_rate,
                         **zkw, **kw)
    if spec.startswith("udp://"):
        from sdrcast.sdr_io.payload import UdpSource

        if kind == "samples":
            raise ConfigError(f"{spec!r}: UDP carries TS/IP payloads, not samples; use zmq+… for "
                              "samples over the network")
        return UdpSource(spec, payload=kind, idle_timeout=timeout, **kw)
    if "://" in spec:
        raise ConfigError(f"{spec!r}: unknown scheme; use a path, -, udp://, zmq+PATTERN:// or soapy:")
    if kind == "ip":
        from sdrcast.sdr_io.payload import PcapSource

        if not spec.endswith(".pcap"):
            raise ConfigError(f"{spec!r}: IP input files are pcap captures (.pcap)")
        return PcapSource(spec, repeat=repeat, **kw)
    if kind == "ts":
        from sdrcast.sdr_io.payload import TsFileSource

        return TsFileSource(spec, repeat=repeat, **kw)
    from sdrcast.sdr_io.files import FileSource

    return FileSource(spec, fmt, chunk_size, sample_rate, repeat, **kw)


def open_sink(spec: str, kind: str = "samples", fmt: str | None = None,
              sample_rate: float | None = None, freq: float | None = None, gain=None,
              **kw) -> Sink:
    """A sink block for ``spec`` (see the module table)."""
    if kind not in KINDS[:2]:
        raise ConfigError(f"kind={kind!r} is not allowed for a sink; choose one of {list(KINDS[:2])}")
    if spec.startswith("soapy:"):
        if kind != "samples":
            raise ConfigError(f"{spec!r}: a radio takes samples, not {kind}")
        from sdrcast.sdr_io.soapy import SoapySink

        return SoapySink(**_soapy_kw(spec, sample_rate, freq, gain, "sink"), **kw)
    if spec.startswith("zmq+"):
        from sdrcast.sdr_io.zmq import ZmqSink

        pattern, address, zkw, _ = _zmq(spec, _ZMQ_SINKS, "sink")
        return ZmqSink(address, pattern, np.uint8 if kind == "ts" else np.complex64,
                       sample_rate=sample_rate, **zkw, **kw)
    if spec.startswith("udp://"):
        from sdrcast.sdr_io.payload import UdpSink

        if kind != "ts":
            raise ConfigError(f"{spec!r}: UDP carries TS/IP payloads, not samples")
        return UdpSink(spec, **kw)
    if "://" in spec:
        raise ConfigError(f"{spec!r}: unknown scheme; use a path, -, udp://, zmq+PATTERN:// or soapy:")
    if kind == "ts":
        from sdrcast.sdr_io.payload import TsFileSink

        return TsFileSink(spec, **kw)
    from sdrcast.sdr_io.files import FileSink

    return FileSink(spec, fmt, sample_rate, freq, **kw)
