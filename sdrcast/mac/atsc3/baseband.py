"""A/322 5.2 baseband packets: a stream of ALP bytes cut into packets of K_payload bits, each
with a 2-byte base field (MODE=1, the 13-bit pointer to the first ALP packet that starts in it,
8191 when none does) and, when data runs out, a padding extension (EXT_TYPE=111) of zero
bytes. This is gr-atsc3's layout; layouts in ``phy/atsc3/tables/alp_a330.json``."""
from __future__ import annotations

import numpy as np

from sdrcast.errors import ConfigError, ParseError

NO_POINTER = 8191


def header(pointer: int, padding: int = 0) -> np.ndarray:
    """Base field, then for ``padding`` > 0 bytes of stuffing an optional field with
    EXT_TYPE=111 (padding) and zero bytes: long (OFI=10, 2 bytes, as gr-atsc3) from 2 bytes,
    short (OFI=01, 1 byte, EXT_LEN 0) for exactly 1."""
    if padding == 1:
        return np.array([0x80 | (pointer & 0x7F), ((pointer >> 7) << 2) | 0b01, 0xE0], np.uint8)
    ofi = 0b10 if padding else 0
    b = [0x80 | (pointer & 0x7F), ((pointer >> 7) << 2) | ofi]
    if padding:
        n = padding - 2  # the 2-byte optional field counts towards the padding
        b += [0xE0 | (n & 0x1F), n >> 5] + [0] * n
    return np.array(b, np.uint8)


class BasebandPacketizer:
    """``push(alp_bytes, alp_starts) -> [n, K_payload/8]`` whole packets; ``flush()`` pads the
    last one. ``alp_starts``: offsets of the ALP packet starts in ``alp_bytes``.
    Counters: ``packets``, ``padded_packets``, ``padding_bytes``."""

    def __init__(self, k_payload_bits: int):
        if k_payload_bits % 8:
            raise ConfigError(f"K_payload={k_payload_bits} bits is not a whole number of bytes")
        self.size = k_payload_bits // 8
        self.payload = self.size - 2
        self.buf = np.zeros(0, np.uint8)
        self.starts = np.zeros(0, np.int64)  # ALP starts in buf
        self.counters = {"packets": 0, "padded_packets": 0, "padding_bytes": 0}

    def push(self, alp: np.ndarray, alp_starts: np.ndarray) -> np.ndarray:
        self.starts = np.concatenate([self.starts, np.asarray(alp_starts, np.int64) + self.buf.size])
        self.buf = np.concatenate([self.buf, np.asarray(alp, np.uint8)])
        n = self.buf.size // self.payload
        out = np.empty((n, self.size), np.uint8)
        begin = np.arange(n) * self.payload
        k = np.searchsorted(self.starts, begin)  # the first ALP start at or after each packet
        first = np.append(self.starts, np.iinfo(np.int64).max)[k] - begin
        for i in range(n):
            out[i, :2] = header(int(first[i]) if first[i] < self.payload else NO_POINTER)
        out[:, 2:] = self.buf[:n * self.payload].reshape(n, self.payload)
        self.buf = self.buf[n * self.payload:]
        self.starts = self.starts[self.starts >= n * self.payload] - n * self.payload
        self.counters["packets"] += n
        return out

    def flush(self) -> np.ndarray:
        """The data left, padded into one last packet (none if nothing is left)."""
        if self.buf.size == 0:
            return np.zeros((0, self.size), np.uint8)
        pad = self.payload - self.buf.size
        ptr = int(self.starts[0]) if self.starts.size else NO_POINTER
        h = header(ptr, pad)
        pkt = np.concatenate([h, self.buf])
        self.buf, self.starts = np.zeros(0, np.uint8), np.zeros(0, np.int64)
        self.counters["packets"] += 1
        self.counters["padded_packets"] += int(pad > 0)
        self.counters["padding_bytes"] += pad
        return pkt[None, :]


def payload(packet: np.ndarray) -> tuple[np.ndarray, int]:
    """One baseband packet -> (its ALP bytes after any extension, pointer); ``ParseError``
    when the packet is shorter than its header says."""
    p = np.asarray(packet, np.uint8)
    if p.size < 1:
        raise ParseError("baseband packet: empty")
    if p[0] & 0x80 == 0:  # MODE=0: 1-byte base field, pointer < 128
        return p[1:], int(p[0] & 0x7F)
    if p.size < 2:
        raise ParseError("baseband packet: 1 byte, but MODE=1 needs a 2-byte base field")
    ptr = int(p[0] & 0x7F) | (int(p[1] >> 2) << 7)
    ofi = p[1] & 0x03
    if ofi == 0:
        return p[2:], ptr
    if p.size < 4:
        raise ParseError(f"baseband packet: {p.size} bytes, too short for OFI={ofi}")
    if ofi == 0b01:  # short: EXT_TYPE 3 + EXT_LEN 5, then EXT_LEN bytes
        start = 3 + (int(p[2]) & 0x1F)
    else:
        start = 4 + ((int(p[2]) & 0x1F) | (int(p[3]) << 5))  # long (and mixed)
    if start > p.size:
        raise ParseError(f"baseband packet: extension of {start} bytes in a {p.size}-byte packet")
    return p[start:], ptr


class BasebandDepacketizer:
    """Baseband packets (with a good/bad flag each) -> the ALP byte stream, in pieces: the
    stream starts, and after a lost packet restarts, at the pointer of the next good one
    (``NO_POINTER``: no ALP packet starts there, so that packet is skipped too), and the piece
    says so, with the stream bytes lost before it (a lost packet counts its size less the
    2-byte header; bytes skipped to the pointer count too; none when joining). A packet whose
    header does not parse counts as lost (``packets_bad`` too). Counters: ``packets``,
    ``packets_lost``, ``packets_bad``, ``bytes_skipped`` (synchronising), ``bytes_lost``."""

    def __init__(self):
        self.synced = False  # joining a stream: the first ALP packet starts at a pointer
        self.joined = False  # synchronised once: later gaps are losses
        self.lost = 0  # stream bytes lost since the last piece
        self.counters = {"packets": 0, "packets_lost": 0, "packets_bad": 0, "bytes_skipped": 0,
                         "bytes_lost": 0}

    def lose(self, nbytes: int) -> None:
        """``nbytes`` of the stream lost (not seen at all): resynchronise at the next pointer."""
        self.synced = False
        if self.joined:
            self.lost += nbytes
            self.counters["bytes_lost"] += nbytes

    def push(self, packets: np.ndarray, good: np.ndarray) -> list[tuple[np.ndarray, bool, int]]:
        """-> [(ALP bytes, restarted after a loss or on joining, stream bytes lost before)]."""
        pieces: list[tuple[list[np.ndarray], bool, int]] = [([], False, 0)]
        for pkt, ok in zip(np.asarray(packets, np.uint8), good, strict=True):
            self.counters["packets"] += 1
            if not ok:
                self.counters["packets_lost"] += 1
                self.lose(max(pkt.size - 2, 0))
                continue
            try:
                data, ptr = payload(pkt)
            except ParseError:
                self.counters["packets_bad"] += 1
                self.counters["packets_lost"] += 1
                self.lose(max(pkt.size - 2, 0))
                continue
            if not self.synced:
                if ptr == NO_POINTER or ptr > data.size:
                    self.counters["bytes_skipped"] += data.size
                    self.lose(data.size)
                    continue
                self.counters["bytes_skipped"] += ptr
                self.lose(ptr)
                data, self.synced, self.joined = data[ptr:], True, True
                pieces.append(([], True, self.lost))
                self.lost = 0
            pieces[-1][0].append(data)
        return [(np.concatenate(d), restart, lost) for d, restart, lost in pieces if d]
