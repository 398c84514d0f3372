"""ZeroMQ sources and sinks, wire-compatible with GNU Radio 3.10 gr-zeromq.

* One message = the raw little-endian items of one send (no framing); receivers treat messages
  as a stream of any length (partial items across messages are kept, never dropped).
* ``pass_tags``: each message starts with the gr-zeromq tag header: ``u16 0x5FF0``, ``u8 1``,
  ``u64 offset`` (absolute index of the message's first item), ``u64 ntags``, then per tag
  ``u64 offset`` (absolute), PMT key, PMT value, PMT srcid; little-endian fields, PMTs big-endian.
* Patterns and defaults as GNU Radio: sinks (PUB, PUSH, REP) bind, sources (SUB, PULL, REQ)
  connect; ``hwm=-1`` keeps libzmq's default (1000 messages). A REQ source asks for items with a
  4-byte native int (the count it wants) and the REP sink answers with at most that many.
* PUB with a ``key`` sends ``[key, data]`` multipart; SUB subscribes to ``key`` (prefix).
"""
from __future__ import annotations

import struct
import time
from collections.abc import Iterator

import numpy as np
import zmq

from sdrcast.config import require_one_of
from sdrcast.errors import DeviceError, SdrcastError
from sdrcast.runtime.block import Chunk, Sink, Source, Tag
from sdrcast.sdr_io import pmt

MAGIC = 0x5FF0
VERSION = 1
_HEADER = struct.Struct("<HBQQ")
_SOURCE_PATTERNS = {"sub": zmq.SUB, "pull": zmq.PULL, "req": zmq.REQ}
_SINK_PATTERNS = {"pub": zmq.PUB, "push": zmq.PUSH, "rep": zmq.REP}


def encode_tag_header(offset: int, tags: list[Tag]) -> bytes:
    """gr-zeromq tag header for a message whose first item has absolute index ``offset``.

    ``tags`` carry offsets relative to the message's first item.
    """
    out = [_HEADER.pack(MAGIC, VERSION, offset, len(tags))]
    for t in tags:
        out.append(struct.pack("<Q", offset + t.offset) + pmt.serialize(t.key)
                   + pmt.serialize(t.value) + pmt.serialize(False))  # srcid: #f (none)
    return b"".join(out)


def decode_tag_header(msg: bytes) -> tuple[int, list[Tag], int]:
    """Parse a tagged message: ``(offset, tags relative to offset, payload start)``."""
    if len(msg) < _HEADER.size:
        raise pmt.PmtError(f"message of {len(msg)} bytes is shorter than the tag header")
    magic, version, offset, ntags = _HEADER.unpack_from(msg, 0)
    if magic != MAGIC or version != VERSION:
        raise pmt.PmtError(f"bad tag header (magic 0x{magic:04x}, version {version}); "
                           "is the sender's pass_tags on?")
    pos = _HEADER.size
    tags = []
    for _ in range(ntags):
        if pos + 8 > len(msg):
            raise pmt.PmtError(f"tag header truncated at byte {pos} ({ntags} tags announced)")
        (abs_off,) = struct.unpack_from("<Q", msg, pos)
        key, pos = pmt.deserialize(msg, pos + 8)
        value, pos = pmt.deserialize(msg, pos)
        _srcid, pos = pmt.deserialize(msg, pos)
        tags.append(Tag(abs_off - offset, str(key), value))
    return offset, tags, pos


def _socket(kind: int, address: str, bind: bool, hwm: int) -> tuple[zmq.Context, zmq.Socket]:
    ctx = zmq.Context()
    sock = ctx.socket(kind)
    sock.setsockopt(zmq.LINGER, 1000)
    if hwm >= 0:
        sock.setsockopt(zmq.SNDHWM, hwm)
        sock.setsockopt(zmq.RCVHWM, hwm)
    try:
        (sock.bind if bind else sock.connect)(address)
    except zmq.ZMQError as exc:
        sock.close(0)
        ctx.term()
        verb = "bind to" if bind else "connect to"
        raise DeviceError(f"cannot {verb} ZeroMQ endpoint {address!r}: {exc}") from exc
    return ctx, sock


class ZmqSource(Source):
    """Receive a stream of items from a gr-zeromq sink (or another sdrcast ZmqSink).

    ``idle_timeout`` (s) ends the stream after that long without data once data has flowed;
    ``connect_timeout`` (s) raises ``DeviceError`` if nothing at all arrives (None: wait forever).

    Every message waiting is read at once into one chunk (up to ``BULK_BYTES``), with a large
    kernel receive buffer, so a fast stream is not lost to a slow poll loop. The high-water
    mark stays ZeroMQ's (1000 messages, as GNU Radio) unless ``hwm`` is given: it bounds the
    memory a consumer slower than a SUB stream can take. With
    ``pass_tags`` the header's item offset shows items that never arrived (PUB/SUB drops at
    the sender's high-water mark): they are counted in ``items_lost``; without tags PUB/SUB
    losses cannot be seen here. A message whose tag header does not parse is skipped and
    counted (``bad_messages``); if the first ``MISMATCH_AFTER`` messages all fail, the sender's
    pass_tags setting differs and the source stops with that error.
    """

    BULK_BYTES = 8 << 20
    MISMATCH_AFTER = 8
    RCV_BUFFER = 32 << 20

    def __init__(self, address: str, pattern: str = "sub", dtype=np.complex64,
                 pass_tags: bool = False, bind: bool = False, hwm: int = -1, key: str = "",
                 timeout_ms: int = 100, idle_timeout: float | None = None,
                 connect_timeout: float | None = None, sample_rate: float | None = None,
                 name: str | None = None):
        super().__init__(name or f"zmq_{pattern}_source", sample_rate)
        require_one_of("pattern", pattern, _SOURCE_PATTERNS)
        self.address, self.pattern, self.dtype = address, pattern, np.dtype(dtype)
        self.pass_tags, self.timeout_ms = pass_tags, timeout_ms
        self.idle_timeout, self.connect_timeout = idle_timeout, connect_timeout
        self._ctx, self._sock = _socket(_SOURCE_PATTERNS[pattern], address, bind, hwm)
        self._sock.setsockopt(zmq.RCVBUF, self.RCV_BUFFER)
        if pattern == "sub":
            self._sock.setsockopt(zmq.SUBSCRIBE, key.encode())
        self.request_items = 8192
        self._pending = False  # REQ: a request is out and its reply not yet received

    def _receive(self) -> bytes | None:
        if self.pattern == "req" and not self._pending:
            self._sock.send(struct.pack("<i", self.request_items))
            self._pending = True
        if not self._sock.poll(self.timeout_ms, zmq.POLLIN):
            return None
        parts = self._sock.recv_multipart()
        self._pending = False
        return parts[-1]  # a keyed PUB message is [key, data]

    def _waiting(self) -> list[bytes]:
        """The next message and every one already waiting behind it (not for REQ)."""
        msg = self._receive()
        if msg is None:
            return []
        out, size = [msg], len(msg)
        while self.pattern != "req" and size < self.BULK_BYTES:
            try:
                parts = self._sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            out.append(parts[-1])
            size += len(parts[-1])
        return out

    def generate(self) -> Iterator[Chunk]:
        itemsize = self.dtype.itemsize
        rest = b""
        started = time.monotonic()
        last = None
        good = 0  # messages whose tag header parsed
        expected = None  # item offset the next tagged message should start at
        while not self.stopping:
            msgs = self._waiting()
            now = time.monotonic()
            if not msgs:
                if last is None and self.connect_timeout is not None and \
                        now - started > self.connect_timeout:
                    raise DeviceError(f"no data from ZeroMQ {self.pattern} endpoint "
                                      f"{self.address!r} within {self.connect_timeout:g} s: is the "
                                      "sender running and bound there?")
                if last is not None and self.idle_timeout is not None and \
                        now - last > self.idle_timeout:
                    break
                continue
            last = now
            tags: list[Tag] = []
            payloads = []
            taken = len(rest)  # bytes before this message in the chunk being built
            for msg in msgs:
                if self.pass_tags:
                    try:
                        offset, mtags, start = decode_tag_header(msg)
                    except pmt.PmtError as exc:
                        self.counters.add("bad_messages")
                        if good == 0 and self.counters["bad_messages"] >= self.MISMATCH_AFTER:
                            raise SdrcastError(f"{self.address}: {exc}") from exc
                        continue
                    good += 1
                    msg = msg[start:]
                    if expected is not None and offset > expected:
                        self.counters.add("items_lost", offset - expected)
                    expected = offset + len(msg) // itemsize
                    # tags count from this message's first item; earlier bytes shift them
                    tags += [t.moved(taken // itemsize) for t in mtags]
                payloads.append(msg)
                taken += len(msg)
            data = rest + b"".join(payloads)
            whole = len(data) - len(data) % itemsize
            rest = data[whole:]
            items = np.frombuffer(data[:whole], self.dtype).copy()
            if items.size or tags:
                yield Chunk(items, tags)
        if rest:
            self.counters.add("trailing_bytes_dropped", len(rest))

    def close(self) -> None:
        if not self._sock.closed:
            self._sock.close(0)
            self._ctx.term()


class ZmqSink(Sink):
    """Send a stream of items like a gr-zeromq sink.

    PUSH applies backpressure when no peer takes data (as GNU Radio's push_sink); PUB drops at the
    high-water mark (counted as ``dropped_items`` only when libzmq reports it, i.e. never for PUB
    without subscribers, as in GNU Radio). REP waits for each request and answers with at most
    the requested count, keeping the rest for the next request. ``send_timeout`` (s) turns a
    peer that takes nothing for that long into a ``DeviceError`` (None: wait, as GNU Radio does).
    """

    def __init__(self, address: str, pattern: str = "pub", dtype=np.complex64,
                 pass_tags: bool = False, bind: bool = True, hwm: int = -1, key: str = "",
                 timeout_ms: int = 100, send_timeout: float | None = None,
                 sample_rate: float | None = None, name: str | None = None):
        super().__init__(name or f"zmq_{pattern}_sink", sample_rate)
        require_one_of("pattern", pattern, _SINK_PATTERNS)
        self.address, self.pattern, self.dtype = address, pattern, np.dtype(dtype)
        self.pass_tags, self.key, self.timeout_ms = pass_tags, key.encode(), timeout_ms
        self.send_timeout = send_timeout
        self._ctx, self._sock = _socket(_SINK_PATTERNS[pattern], address, bind, hwm)
        self.n_sent = 0

    def _message(self, chunk: Chunk) -> bytes:
        data = np.ascontiguousarray(chunk.data, self.dtype).tobytes()
        if self.pass_tags:
            data = encode_tag_header(self.n_sent, list(chunk.tags)) + data
        return data

    def _send(self, msg: bytes) -> None:
        parts = [self.key, msg] if self.pattern == "pub" and self.key else [msg]
        t0 = time.monotonic()
        while not self.stopping:
            if self._sock.poll(self.timeout_ms, zmq.POLLOUT):
                try:  # never blocking: a PUSH peer may leave between the poll and the send,
                    self._sock.send_multipart(parts, zmq.NOBLOCK)  # and a blocked send
                    return  # would not see the flowgraph stop (SIGTERM hung the program)
                except zmq.Again:
                    pass
            self._check_timeout(t0)
        raise _Stop

    def _check_timeout(self, t0: float) -> None:
        if self.send_timeout is not None and time.monotonic() - t0 > self.send_timeout:
            raise DeviceError(f"ZeroMQ {self.pattern} sink {self.address!r}: no peer took data "
                              f"for {self.send_timeout:g} s")

    def consume(self, chunk: Chunk) -> None:
        try:
            if self.pattern == "rep":
                self._reply(chunk)
            else:
                self._send(self._message(chunk))
                self.n_sent += len(chunk)
        except _Stop:
            return

    def _reply(self, chunk: Chunk) -> None:
        pos = 0
        while pos < len(chunk):
            t0 = time.monotonic()
            while not self._sock.poll(self.timeout_ms, zmq.POLLIN):
                if self.stopping:
                    raise _Stop
                self._check_timeout(t0)
            req = self._sock.recv()
            want = struct.unpack("<i", req[:4])[0] if len(req) >= 4 else len(chunk)
            part = chunk.slice(pos, pos + max(want, 1))
            self._sock.send(self._message(part))
            self.n_sent += len(part)
            pos += len(part)

    def close(self) -> None:
        if not self._sock.closed:
            self._sock.close()
            self._ctx.term()


class _Stop(Exception):
    pass
