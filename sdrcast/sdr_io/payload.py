"""Payload I/O: MPEG-TS from/to files, stdin/stdout and UDP (unicast or multicast), raw datagrams.

TS sources emit chunks of whole 188-byte packets (uint8); bytes that do not complete a packet at
the end of a file are counted (``trailing_bytes_dropped``). Packets whose first byte is not 0x47
are passed on and counted (``sync_errors``): downstream decides what to do with them.
"""
from __future__ import annotations

import ipaddress
import socket
import struct
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sdrcast.config import require_one_of
from sdrcast.errors import DeviceError
from sdrcast.mac.ts import TS_PACKET, sync_ok
from sdrcast.runtime.block import Chunk, Sink, Source


class TsFileSource(Source):
    """Read TS packets from a file or stdin (``-``), ``packets_per_chunk`` at a time."""

    def __init__(self, path: str | Path, packets_per_chunk: int = 348, repeat: bool = False,
                 name: str | None = None):
        super().__init__(name or "ts_source")
        self.path, self.ppc, self.repeat = str(path), packets_per_chunk, repeat
        if self.path != "-" and not Path(self.path).is_file():
            raise DeviceError(f"TS file {self.path!r} does not exist")

    def generate(self) -> Iterator[Chunk]:
        while True:
            f = sys.stdin.buffer if self.path == "-" else open(self.path, "rb")
            rest = b""
            try:
                while not self.stopping:
                    raw = f.read(self.ppc * TS_PACKET)
                    if not raw:
                        break
                    data = rest + raw
                    whole = len(data) - len(data) % TS_PACKET
                    rest = data[whole:]
                    if whole:
                        pkts = np.frombuffer(data[:whole], np.uint8).copy()
                        bad = int(np.count_nonzero(~sync_ok(pkts)))
                        if bad:
                            self.counters.add("sync_errors", bad)
                        yield Chunk(pkts)
                if rest:
                    self.counters.add("trailing_bytes_dropped", len(rest))
            finally:
                if f is not sys.stdin.buffer:
                    f.close()
            if not self.repeat or self.stopping or self.path == "-":
                return


class TsFileSink(Sink):
    """Write bytes to a file or stdout (``-``)."""

    def __init__(self, path: str | Path, name: str | None = None):
        super().__init__(name or "ts_sink")
        self.path = str(path)
        try:
            self._f = sys.stdout.buffer if self.path == "-" else open(self.path, "wb")
        except OSError as exc:
            raise DeviceError(f"cannot write {self.path!r}: {exc.strerror}") from exc

    def consume(self, chunk: Chunk) -> None:
        self._f.write(np.ascontiguousarray(chunk.data, np.uint8).tobytes())

    def close(self) -> None:
        if self._f is sys.stdout.buffer:
            self._f.flush()
        elif not self._f.closed:
            self._f.close()


def parse_udp(spec: str) -> tuple[str, int]:
    """``udp://host:port`` or ``udp://@group:port`` (listen on a multicast group) -> (host, port)."""
    rest = spec.removeprefix("udp://").lstrip("@")
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise DeviceError(f"bad UDP address {spec!r}; expected udp://HOST:PORT or udp://@GROUP:PORT")
    return host.strip("[]") or "0.0.0.0", int(port)


def _is_multicast(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_multicast
    except ValueError:
        return False


class UdpSource(Source):
    """Receive datagrams on ``host:port`` (joining ``host`` when it is a multicast group).

    ``payload="ts"``: datagrams must hold whole TS packets; others are counted
    (``bad_datagrams``) and dropped. ``payload="raw"``: each datagram is one chunk (IP payloads).
    ``idle_timeout`` ends the stream after that many seconds without a datagram.
    """

    def __init__(self, spec: str, payload: str = "ts", interface: str = "0.0.0.0",
                 idle_timeout: float | None = None, name: str | None = None):
        super().__init__(name or "udp_source")
        require_one_of("payload", payload, ("ts", "raw"))
        self.host, self.port = parse_udp(spec)
        self.payload, self.idle_timeout = payload, idle_timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        try:
            self.sock.bind((self.host if _is_multicast(self.host) else self.host, self.port))
            if _is_multicast(self.host):
                mreq = struct.pack("4s4s", socket.inet_aton(self.host), socket.inet_aton(interface))
                self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        except OSError as exc:
            self.sock.close()
            raise DeviceError(f"cannot listen on {spec!r}: {exc.strerror}") from exc
        self.sock.settimeout(0.1)

    def generate(self) -> Iterator[Chunk]:
        idle = 0.0
        while not self.stopping:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                idle += 0.1
                if self.idle_timeout is not None and idle >= self.idle_timeout:
                    return
                continue
            idle = 0.0
            if self.payload == "ts" and (len(data) % TS_PACKET or not data):
                self.counters.add("bad_datagrams")
                continue
            yield Chunk(np.frombuffer(data, np.uint8).copy())

    def close(self) -> None:
        self.sock.close()


class UdpSink(Sink):
    """Send bytes as datagrams: TS in groups of ``packets_per_datagram`` (7 by default) packets,
    raw payloads one chunk per datagram."""

    def __init__(self, spec: str, payload: str = "ts", packets_per_datagram: int = 7,
                 ttl: int = 1, name: str | None = None):
        super().__init__(name or "udp_sink")
        require_one_of("payload", payload, ("ts", "raw"))
        self.addr = parse_udp(spec)
        self.payload, self.size = payload, packets_per_datagram * TS_PACKET
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if _is_multicast(self.addr[0]):
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
        self._pending = b""

    def consume(self, chunk: Chunk) -> None:
        data = np.ascontiguousarray(chunk.data, np.uint8).tobytes()
        if self.payload == "raw":
            self.sock.sendto(data, self.addr)
            return
        data = self._pending + data
        n = len(data) - len(data) % self.size
        for i in range(0, n, self.size):
            self.sock.sendto(data[i:i + self.size], self.addr)
        self._pending = data[n:]

    def finish(self) -> None:
        whole = len(self._pending) - len(self._pending) % TS_PACKET
        if whole:
            self.sock.sendto(self._pending[:whole], self.addr)
        if len(self._pending) > whole:
            self.counters.add("trailing_bytes_dropped", len(self._pending) - whole)
        self._pending = b""

    def close(self) -> None:
        self.sock.close()
