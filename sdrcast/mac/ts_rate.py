"""Constant-rate TS for live inputs: a transmitter's payload must arrive at exactly its
capacity. ``TsRateAdapter`` releases whole TS packets at ``bitrate`` by the clock, stuffs null
packets (PID 0x1FFF) when the input falls behind and drops the oldest packets when more than
``max_backlog_s`` of input piles up; both are counted, nothing is lost silently."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np

from sdrcast.config import require_range
from sdrcast.mac.ts import TS_PACKET, null_packets
from sdrcast.runtime import Block, Chunk


class TsRateAdapter(Block):
    """TS bytes in (any timing) -> TS bytes out at ``bitrate`` bit/s, in whole packets.

    Counters: ``null_packets_stuffed``, ``ts_packets_dropped`` (input beyond the backlog),
    ``trailing_bytes_dropped`` (a partial packet at the end of input). ``clock`` (seconds) is
    injectable for tests; output starts at the first call.
    """

    tick_s = 0.02

    def __init__(self, bitrate: float, max_backlog_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, name: str = "ts_rate"):
        super().__init__(name)
        require_range("bitrate", bitrate, 1.0)
        require_range("max_backlog_s", max_backlog_s, 0.0)
        self.packet_rate = bitrate / (8 * TS_PACKET)
        self.max_backlog = max(int(max_backlog_s * self.packet_rate), 1)
        self.clock = clock
        self.t0: float | None = None
        self.sent = 0  # packets released
        self.buf = np.zeros(0, np.uint8)

    def release(self, data: np.ndarray) -> np.ndarray:
        """Take input bytes; return the packets due by now (stuffed with nulls if short)."""
        now = self.clock()
        if self.t0 is None:
            self.t0 = now
        self.buf = np.concatenate([self.buf, np.asarray(data, np.uint8)])
        backlog = self.buf.size // TS_PACKET - self.max_backlog
        if backlog > 0:  # input faster than the capacity: drop the oldest
            self.buf = self.buf[backlog * TS_PACKET:]
            self.counters.add("ts_packets_dropped", backlog)
        due = int((now - self.t0) * self.packet_rate) - self.sent
        if due <= 0:
            return np.zeros(0, np.uint8)
        have = min(due, self.buf.size // TS_PACKET)
        out, self.buf = self.buf[:have * TS_PACKET], self.buf[have * TS_PACKET:]
        if have < due:
            out = np.concatenate([out, null_packets(due - have)])
            self.counters.add("null_packets_stuffed", due - have)
        self.sent += due
        return out

    def process(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        for c in chunks:
            self.poll()
            out = self.release(c.data)
            if out.size:
                yield Chunk(out)
        if self.buf.size % TS_PACKET:
            self.counters.add("trailing_bytes_dropped", self.buf.size % TS_PACKET)
        whole = self.buf.size - self.buf.size % TS_PACKET
        if whole:
            yield Chunk(self.buf[:whole])
