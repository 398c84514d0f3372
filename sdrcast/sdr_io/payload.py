"""Payload I/O: MPEG-TS from/to files, stdin/stdout and UDP (unicast or multicast), raw datagrams,
IPv4 from UDP sockets and pcap captures.

TS sources emit chunks of whole 188-byte packets (uint8); bytes that do not complete a packet at
the end of a file are counted (``trailing_bytes_dropped``). Packets whose first byte is not 0x47
are dropped and counted (``sync_errors``); a file whose first packets are mostly without it is
not MPEG-TS (IQ samples, random bytes) and is refused with ``ParseError``. IPv4
sources emit chunks of whole IPv4 datagrams back to back (each delimited by its total length).
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
from sdrcast.errors import ConfigError, DeviceError, ParseError
from sdrcast.mac.ip import udp_datagram, with_checksums
from sdrcast.mac.ts import TS_PACKET, sync_ok
from sdrcast.runtime.block import Chunk, Sink, Source


class TsFileSource(Source):
    """Read TS packets from a file or stdin (``-``), ``packets_per_chunk`` at a time."""

    MIN_SYNC_SHARE = 0.9  # of the first chunk's packets, for the input to count as MPEG-TS

    def __init__(self, path: str | Path, packets_per_chunk: int = 348, repeat: bool = False,
                 name: str | None = None):
        super().__init__(name or "ts_source")
        self.path, self.ppc, self.repeat = str(path), packets_per_chunk, repeat
        if self.path != "-" and not Path(self.path).is_file():
            raise DeviceError(f"TS file {self.path!r} does not exist")

    def generate(self) -> Iterator[Chunk]:
        first = True
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
                        ok = sync_ok(pkts)
                        if first and ok.mean() < self.MIN_SYNC_SHARE:
                            raise ParseError(
                                f"{self.path}: not MPEG-TS ({int((~ok).sum())} of {ok.size} "
                                "packets lack the 0x47 sync byte every 188 bytes); TS input "
                                "must be a transport stream, not IQ samples or other data")
                        first = False
                        if not ok.all():
                            self.counters.add("sync_errors", int((~ok).sum()))
                            pkts = pkts.reshape(-1, TS_PACKET)[ok].reshape(-1)
                        if pkts.size:
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
    ``payload="ip"``: each datagram is rebuilt as the IPv4/UDP datagram that arrived (sender's
    address and port, destination ``host:port``), one per chunk, for IP over the air.
    ``idle_timeout`` ends the stream after that many seconds without a datagram.
    """

    def __init__(self, spec: str, payload: str = "ts", interface: str = "0.0.0.0",
                 idle_timeout: float | None = None, name: str | None = None):
        super().__init__(name or "udp_source")
        require_one_of("payload", payload, ("ts", "raw", "ip"))
        self.host, self.port = parse_udp(spec)
        if payload == "ip" and self.host == "0.0.0.0":
            raise ConfigError(f"{spec!r}: IP input needs the address the datagrams are sent to "
                              "(udp://@GROUP:PORT or udp://LOCAL_ADDRESS:PORT), to rebuild their "
                              "IPv4 header")
        self.payload, self.idle_timeout = payload, idle_timeout
        self.ident = 0
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
                data, sender = self.sock.recvfrom(65536)
            except TimeoutError:
                idle += 0.1
                if self.idle_timeout is not None and idle >= self.idle_timeout:
                    return
                continue
            idle = 0.0
            if self.payload == "ts" and (len(data) % TS_PACKET or not data):
                self.counters.add("bad_datagrams")
                continue
            if self.payload == "ip":
                data = udp_datagram(data, sender, (self.host, self.port), ident=self.ident)
                self.ident += 1
            yield Chunk(np.frombuffer(data, np.uint8).copy())

    def close(self) -> None:
        self.sock.close()


_PCAP_MAGIC = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
               b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}  # us and ns timestamps
_LINK_IP_OFFSET = {1: 14, 101: 0, 228: 0, 113: 16}  # Ethernet, raw IP, IPv4, Linux cooked


class PcapSource(Source):
    """IPv4 datagrams from a classic pcap capture (Ethernet, VLAN-tagged Ethernet, raw IP or
    Linux cooked capture), ``datagrams_per_chunk`` at a time, in capture order, with their IPv4
    and UDP checksums recomputed (``checksums_rebuilt`` counts those that were wrong: captures
    taken before checksum offload hold zeros). Records that
    are not IPv4 (``non_ipv4_records``) or are cut short by the capture's snap length
    (``truncated_records``) are skipped and counted. A record header whose length exceeds the
    snap length (``max_record``: at least 256 kB, as some writers exceed a small one), or runs
    past the end of the file, is a corrupt capture: ``ParseError`` naming the record (the rest
    of the file cannot be framed)."""

    def __init__(self, path: str | Path, datagrams_per_chunk: int = 64, repeat: bool = False,
                 name: str | None = None):
        super().__init__(name or "pcap_source")
        self.path, self.per_chunk, self.repeat = Path(path), datagrams_per_chunk, repeat
        if not self.path.is_file():
            raise DeviceError(f"pcap file {str(self.path)!r} does not exist")
        with open(self.path, "rb") as f:
            head = f.read(24)
        if head[:4] == b"\x0a\x0d\x0d\x0a":
            raise ConfigError(f"{str(self.path)!r} is pcapng; convert it to pcap "
                              "(editcap -F pcap in.pcapng out.pcap)")
        if len(head) < 24 or head[:4] not in _PCAP_MAGIC:
            raise ConfigError(f"{str(self.path)!r} is not a pcap capture (magic {head[:4].hex()})")
        self.endian = _PCAP_MAGIC[head[:4]]
        self.max_record = max(struct.unpack(self.endian + "I", head[16:20])[0], 0x40000)
        self.link = struct.unpack(self.endian + "I", head[20:24])[0] & 0x0FFFFFFF
        if self.link not in _LINK_IP_OFFSET:
            raise ConfigError(f"{str(self.path)!r}: link type {self.link} is not supported; "
                              f"allowed {sorted(_LINK_IP_OFFSET)} (Ethernet, raw IP, IPv4, Linux cooked)")

    def _ipv4(self, rec: bytes) -> bytes | None:
        off = _LINK_IP_OFFSET[self.link]
        if self.link == 1:
            while rec[off - 2:off] in (b"\x81\x00", b"\x88\xa8"):  # VLAN tags
                off += 4
            if rec[off - 2:off] != b"\x08\x00":
                return None
        elif self.link == 113 and rec[14:16] != b"\x08\x00":
            return None
        ip = rec[off:]
        if len(ip) < 20 or ip[0] >> 4 != 4:
            return None
        return ip

    def generate(self) -> Iterator[Chunk]:
        while True:
            with open(self.path, "rb") as f:
                f.seek(24)
                grams: list[bytes] = []
                record = 0
                while not self.stopping:
                    at = f.tell()
                    rh = f.read(16)
                    if not rh:
                        break
                    incl = struct.unpack(self.endian + "I", rh[8:12])[0] if len(rh) == 16 else -1
                    rec = f.read(incl) if 0 <= incl <= self.max_record else b""
                    if len(rh) < 16 or len(rec) != incl:
                        if grams:  # what was read before it still goes out
                            yield Chunk(np.frombuffer(b"".join(grams), np.uint8).copy())
                        raise ParseError(f"{str(self.path)!r}: pcap record {record} at byte {at} "
                                         f"is corrupt (incl_len {incl}, at most {self.max_record}, "
                                         "or cut short); the capture cannot be read past it")
                    record += 1
                    ip = self._ipv4(rec)
                    if ip is None:
                        self.counters.add("non_ipv4_records")
                        continue
                    total = (ip[2] << 8) | ip[3]
                    if len(ip) < total:
                        self.counters.add("truncated_records")
                        continue
                    try:
                        gram = with_checksums(ip[:total])  # Ethernet may pad short frames
                    except ParseError:
                        self.counters.add("non_ipv4_records")
                        continue
                    if gram != ip[:total]:
                        self.counters.add("checksums_rebuilt")
                    grams.append(gram)
                    if len(grams) == self.per_chunk:
                        yield Chunk(np.frombuffer(b"".join(grams), np.uint8).copy())
                        grams = []
                if grams:
                    yield Chunk(np.frombuffer(b"".join(grams), np.uint8).copy())
            if not self.repeat or self.stopping:
                return


class PcapWriter:
    """IPv4 datagrams appended to a raw-IP pcap capture (link type 101, timestamps zero) as
    they come; ``close()`` (or a ``with`` block) ends it."""

    def __init__(self, path: str | Path):
        self.file = open(path, "wb")  # noqa: SIM115 - closed by close()
        self.file.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))

    def write(self, datagrams) -> None:
        for g in datagrams:
            self.file.write(struct.pack("<IIII", 0, 0, len(g), len(g)) + bytes(g))
        self.file.flush()

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_pcap(path: str | Path, datagrams: list[bytes]) -> None:
    """IPv4 datagrams -> a raw-IP pcap capture (link type 101), timestamps zero."""
    with PcapWriter(path) as w:
        w.write(datagrams)


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
