"""SoapySDR source and sink (live radios: HackRF, USRP, ... and the sdrcast_loopback module).

The Python module is Debian's ``python3-soapysdr`` linked into the venv by ``scripts/setup.sh``.
Stream errors are counted (``overflows``, ``underflows``, ``timeouts``, ``late``); a device that
cannot be opened raises ``DeviceError`` listing what SoapySDR does see.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Mapping

import numpy as np

from sdrcast.errors import DeviceError
from sdrcast.runtime.block import Chunk, Sink, Source, Tag

INSTALL_HINT = ("install Debian's python3-soapysdr and run `make test` or scripts/setup.sh to link "
                "it into .venv")


def soapy():
    """The SoapySDR module, or ``DeviceError`` saying how to get it."""
    try:
        import SoapySDR
    except ImportError as exc:
        raise DeviceError(f"SoapySDR Python module not found: {INSTALL_HINT}") from exc
    return SoapySDR


def list_devices(args: str = "") -> list[dict]:
    """Devices SoapySDR can see (each a dict of its key/value args)."""
    sdr = soapy()
    return [dict(d) for d in sdr.Device.enumerate(args)]


def _describe(devices: list[dict]) -> str:
    if not devices:
        return "SoapySDR sees no devices"
    return "SoapySDR sees: " + "; ".join(",".join(f"{k}={v}" for k, v in d.items()) for d in devices)


def open_device(args: str):
    sdr = soapy()
    try:
        return sdr.Device(args)
    except (RuntimeError, ValueError) as exc:
        try:
            seen = _describe(list_devices())
        except Exception:  # noqa: BLE001 - enumeration itself failed; report the open error
            seen = "device enumeration failed too"
        raise DeviceError(f"no SoapySDR device matches {args!r} ({exc}); {seen}") from exc


class _SoapyStream:
    """Shared open/configure/close of one stream direction."""

    def _configure(self, direction: int, args: str, rate: float, freq: float | None,
                   gain: float | Mapping[str, float] | None, bandwidth: float | None,
                   antenna: str | None, channel: int, fmt: str, stream_args: Mapping | None,
                   clock_source: str | None = None, time_source: str | None = None):
        sdr = soapy()
        self._sdr = sdr
        self.device = open_device(args)
        self.direction, self.channel = direction, channel
        d, ch = self.device, channel
        nch = d.getNumChannels(direction)
        if channel >= nch:
            raise DeviceError(f"channel={channel} is not available; the device has {nch} "
                              f"{'RX' if direction == sdr.SOAPY_SDR_RX else 'TX'} channel(s)")
        if clock_source:
            d.setClockSource(clock_source)
        if time_source:
            d.setTimeSource(time_source)
        d.setSampleRate(direction, ch, float(rate))
        if freq is not None:
            d.setFrequency(direction, ch, float(freq))
        if bandwidth:
            d.setBandwidth(direction, ch, float(bandwidth))
        if antenna:
            ants = list(d.listAntennas(direction, ch))
            if antenna not in ants:
                raise DeviceError(f"antenna={antenna!r} is not available; choose one of {ants}")
            d.setAntenna(direction, ch, antenna)
        if isinstance(gain, Mapping):
            names = list(d.listGains(direction, ch))
            for name, value in gain.items():
                if name not in names:
                    raise DeviceError(f"gain stage {name!r} is not available; stages: {names}")
                d.setGain(direction, ch, name, float(value))
        elif gain is not None:
            d.setGain(direction, ch, float(gain))
        formats = list(d.getStreamFormats(direction, ch))
        if fmt not in formats:
            raise DeviceError(f"stream format {fmt} is not offered; the device offers {formats}")
        self.fmt = fmt
        kw = {str(k): str(v) for k, v in (stream_args or {}).items()}
        self.stream = d.setupStream(direction, fmt, [ch], kw)
        self.mtu = int(d.getStreamMTU(self.stream))
        d.activateStream(self.stream)
        self.actual_rate = d.getSampleRate(direction, ch)

    def _close(self) -> None:
        dev = getattr(self, "device", None)
        if dev is None:
            return
        stream = getattr(self, "stream", None)
        if stream is not None:
            try:
                dev.deactivateStream(stream)
            finally:
                dev.closeStream(stream)
        self.stream = None
        self.device = None

    def _buffer(self, n: int) -> np.ndarray:
        return np.empty(n, np.complex64) if self.fmt == "CF32" else np.empty(2 * n, np.int16)


def _count_error(block, code: int, sdr) -> None:
    names = {sdr.SOAPY_SDR_TIMEOUT: "timeouts", sdr.SOAPY_SDR_OVERFLOW: "overflows",
             sdr.SOAPY_SDR_UNDERFLOW: "underflows", sdr.SOAPY_SDR_TIME_ERROR: "late",
             sdr.SOAPY_SDR_CORRUPTION: "corruptions"}
    if code not in names:
        raise DeviceError(f"{block.name}: stream error {code} ({sdr.errToStr(code)})")
    block.counters.add(names[code])


class SoapySource(_SoapyStream, Source):
    """Receive complex64 samples. ``num_samples`` ends the stream after that many (None: run
    until stopped). Tags: ``rx_time`` (ns, when the device reports hardware time) at the first
    sample of a chunk that follows a gap, overflow or timeout. ``stall_s``: a device that
    delivers nothing for that long raises ``DeviceError`` (None: wait for ever)."""

    def __init__(self, args: str, rate: float, freq: float | None = None,
                 gain: float | Mapping[str, float] | None = None, bandwidth: float | None = None,
                 antenna: str | None = None, channel: int = 0, chunk_size: int = 16384,
                 timeout_s: float = 1.0, num_samples: int | None = None, fmt: str = "CF32",
                 stream_args: Mapping | None = None, stall_s: float | None = 10.0,
                 name: str | None = None, **kw):
        Source.__init__(self, name or "soapy_source", rate)
        self.chunk_size, self.timeout_us = int(chunk_size), int(timeout_s * 1e6)
        self.num_samples, self.stall_s, self.args = num_samples, stall_s, args
        sdr = soapy()
        self._configure(sdr.SOAPY_SDR_RX, args, rate, freq, gain, bandwidth, antenna, channel,
                        fmt, stream_args, **kw)

    def generate(self) -> Iterator[Chunk]:
        sdr = self._sdr
        got = 0
        resync = True
        last = time.monotonic()
        while not self.stopping and (self.num_samples is None or got < self.num_samples):
            n = self.chunk_size if self.num_samples is None else min(self.chunk_size,
                                                                    self.num_samples - got)
            buf = self._buffer(n)
            sr = self.device.readStream(self.stream, [buf], n, timeoutUs=self.timeout_us)
            if sr.ret < 0:
                _count_error(self, sr.ret, sdr)
                resync = True
                if self.stall_s is not None and time.monotonic() - last > self.stall_s:
                    raise DeviceError(f"{self.args!r}: no samples for {self.stall_s:g} s "
                                      f"({self.counters.get('timeouts', 0)} timeouts)")
                continue
            last = time.monotonic()
            iq = buf[:sr.ret] if self.fmt == "CF32" else \
                (buf[:2 * sr.ret].astype(np.float32) / 32768).view(np.complex64)
            tags = []
            if resync and sr.flags & sdr.SOAPY_SDR_HAS_TIME:
                tags.append(Tag(0, "rx_time", int(sr.timeNs)))
            resync = False
            got += sr.ret
            yield Chunk(iq.copy(), tags)

    def close(self) -> None:
        self._close()


class SoapySink(_SoapyStream, Sink):
    """Transmit complex64 samples; an end-of-burst flag goes with the last write. Underflows
    reported by ``readStreamStatus`` are counted; samples beyond full scale (CS16 clips at
    32767) are counted as ``clipped``. ``stall_s``: a device that takes nothing for that long
    raises ``DeviceError`` (None: wait for ever)."""

    def __init__(self, args: str, rate: float, freq: float | None = None,
                 gain: float | Mapping[str, float] | None = None, bandwidth: float | None = None,
                 antenna: str | None = None, channel: int = 0, timeout_s: float = 1.0,
                 fmt: str = "CF32", stream_args: Mapping | None = None, name: str | None = None,
                 stall_s: float | None = 10.0, **kw):
        Sink.__init__(self, name or "soapy_sink", rate)
        self.stall_s, self.args = stall_s, args
        self.timeout_us = int(timeout_s * 1e6)
        sdr = soapy()
        self._configure(sdr.SOAPY_SDR_TX, args, rate, freq, gain, bandwidth, antenna, channel,
                        fmt, stream_args, **kw)
        self.n_written = 0

    def _write(self, iq: np.ndarray, flags: int = 0) -> None:
        sdr = self._sdr
        over = int(np.count_nonzero((np.abs(iq.view(np.float32)) > 1.0).reshape(-1, 2).any(axis=1)))
        if over:
            self.counters.add("clipped", over)
        data = iq if self.fmt == "CF32" else \
            np.clip(np.rint(iq.view(np.float32) * 32768), -32768, 32767).astype(np.int16)
        per = 1 if self.fmt == "CF32" else 2
        pos, total = 0, iq.size
        moved = time.monotonic()
        while pos < total and not self.stopping:
            n = min(total - pos, self.mtu)
            last = flags if pos + n == total else 0
            sr = self.device.writeStream(self.stream, [data[pos * per:(pos + n) * per]], n, last,
                                         timeoutUs=self.timeout_us)
            if sr.ret < 0:
                _count_error(self, sr.ret, sdr)
                if self.stall_s is not None and time.monotonic() - moved > self.stall_s:
                    raise DeviceError(f"{self.args!r}: the device took no samples for "
                                      f"{self.stall_s:g} s")
                continue
            moved = time.monotonic()
            pos += sr.ret
            self.n_written += sr.ret
        self._poll_status()

    def _poll_status(self) -> None:
        sr = self.device.readStreamStatus(self.stream, timeoutUs=0)
        if sr.ret < 0 and sr.ret != self._sdr.SOAPY_SDR_TIMEOUT and \
                sr.ret != self._sdr.SOAPY_SDR_NOT_SUPPORTED:
            _count_error(self, sr.ret, self._sdr)

    def consume(self, chunk: Chunk) -> None:
        self._write(np.ascontiguousarray(chunk.data, np.complex64))

    def finish(self) -> None:
        self._write(np.zeros(64, np.complex64), self._sdr.SOAPY_SDR_END_BURST)  # flush + end burst

    def close(self) -> None:
        self._close()
