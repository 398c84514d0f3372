"""A/330 ALP encapsulation of MPEG-2 TS and IPv4 (layouts: ``phy/atsc3/tables/alp_a330.json``).

TS mode (packet_type 111): ``NUMTS`` TS packets per ALP packet with the 0x47 sync byte removed;
optionally null packets deleted (``DNP`` of them re-inserted by the receiver ahead of the
packet) and headers deleted (``HDM``: packets after the first carry only their payload when
their header is the first's with the continuity counter stepped). With one TS packet per ALP
packet and null deletion this is gr-atsc3's encapsulation byte for byte.

IPv4 (packet_type 000): one datagram of up to 2047 bytes per ALP packet, PC=0, HM=0 (longer
datagrams are refused: the HM=1 length layout is unresolved, see the tables' README).
"""
from __future__ import annotations

import numpy as np

from sdrcast.config import require_range
from sdrcast.errors import ConfigError
from sdrcast.mac.ip import split_datagrams
from sdrcast.mac.ts import SYNC, TS_PACKET, null_packets
from sdrcast.phy.kernels.alp import alp_ts_single_packets

NULL_PID = 0x1FFF
MAX_DNP = 128  # DNP=0 with HDM=0 means 128 deleted nulls
MAX_IP = 2047


class TsEncapsulator:
    """Streaming TS -> ALP: ``push(ts) -> (alp bytes, start offset of each ALP packet)``
    (whole TS packets; a partial one, or a partial NUMTS group, waits for the next call).

    ``numts``: TS packets per ALP packet (1..16); ``delete_nulls``; ``delete_headers``.
    Counters: ``ts_packets``, ``nulls_deleted``, ``alp_packets``.
    """

    def __init__(self, numts: int = 1, delete_nulls: bool = True, delete_headers: bool = False):
        require_range("numts", numts, 1, 16)
        self.numts, self.delete_nulls, self.delete_headers = numts, delete_nulls, delete_headers
        self.pending = np.zeros(0, np.uint8)
        self.nulls = 0  # nulls deleted since the last ALP packet
        self.counters = {"ts_packets": 0, "nulls_deleted": 0, "alp_packets": 0}

    def _header_follows(self, first: np.ndarray, pkt: np.ndarray, k: int) -> bool:
        """``pkt`` is ``first`` with the continuity counter stepped ``k`` times and no
        adaptation field, so its header can be rebuilt."""
        return (pkt[1] == first[1] and pkt[2] == first[2] and (first[3] & 0x30) == 0x10
                and pkt[3] == (first[3] & 0xF0) | ((first[3] + k) & 0x0F))

    def _emit(self, group: list[np.ndarray], out: list[np.ndarray]) -> None:
        numts = len(group) & 0x0F  # 16 is sent as 0
        hdm = self.delete_headers and len(group) > 1 and self.nulls < MAX_DNP and all(
            self._header_follows(group[0], p, k) for k, p in enumerate(group[1:], 1))
        ahf = self.nulls > 0 or hdm
        head = [0xE0 | (numts << 1) | int(ahf)]
        if ahf:
            head.append((int(hdm) << 7) | (self.nulls & 0x7F))
        body = [group[0][1:]] + [p[4:] if hdm else p[1:] for p in group[1:]]
        out.append(np.concatenate([np.array(head, np.uint8), *body]))
        self.nulls = 0
        self.counters["alp_packets"] += 1

    def push(self, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        data = np.concatenate([self.pending, np.asarray(ts, np.uint8).reshape(-1)])
        whole = data.size // TS_PACKET * TS_PACKET
        self.pending = data[whole:]
        pkts = data[:whole].reshape(-1, TS_PACKET)
        if pkts.size and (pkts[:, 0] != SYNC).any():
            bad = int(np.flatnonzero(pkts[:, 0] != SYNC)[0])
            raise ConfigError(f"TS input: packet {self.counters['ts_packets'] + bad} has no 0x47 "
                              "sync byte (input must be whole 188-byte packets)")
        if self.numts == 1 and not self.delete_headers:
            alp, starts, self.nulls, deleted = alp_ts_single_packets(
                pkts, self.delete_nulls, self.nulls, NULL_PID, MAX_DNP)
            self.counters["ts_packets"] += len(pkts)
            self.counters["nulls_deleted"] += deleted
            self.counters["alp_packets"] += len(starts)
            return alp, starts
        out: list[np.ndarray] = []
        group: list[np.ndarray] = []
        for p in pkts:
            self.counters["ts_packets"] += 1
            is_null = ((int(p[1]) & 0x1F) << 8 | int(p[2])) == NULL_PID
            if self.delete_nulls and is_null and not group and self.nulls < MAX_DNP:
                self.nulls += 1
                self.counters["nulls_deleted"] += 1
                continue
            group.append(p)
            if len(group) == self.numts:
                self._emit(group, out)
                group = []
        if group:  # a partial group waits for the next call (or flush)
            self.pending = np.concatenate([np.concatenate(group), self.pending])
            self.counters["ts_packets"] -= len(group)
        return concat_packets(out)

    def flush(self) -> tuple[np.ndarray, np.ndarray]:
        """End of input: a partial NUMTS group goes out as a shorter packet; a partial TS
        packet is dropped and counted (``trailing_bytes_dropped``)."""
        whole = self.pending.size // TS_PACKET * TS_PACKET
        if self.pending.size > whole:
            self.counters["trailing_bytes_dropped"] = self.pending.size - whole
        pkts, self.pending = self.pending[:whole].reshape(-1, TS_PACKET), np.zeros(0, np.uint8)
        out: list[np.ndarray] = []
        if len(pkts):
            self.counters["ts_packets"] += len(pkts)
            self._emit(list(pkts), out)
        elif self.nulls:  # deleted nulls with no packet after them: the last one carries them
            self.nulls -= 1
            self.counters["nulls_deleted"] -= 1
            self._emit([null_packets(1)], out)
        return concat_packets(out)


def concat_packets(packets: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """ALP packets -> (bytes, start offset of each)."""
    if not packets:
        return np.zeros(0, np.uint8), np.zeros(0, np.int64)
    sizes = np.array([p.size for p in packets], np.int64)
    return np.concatenate(packets), np.concatenate([[0], np.cumsum(sizes)[:-1]])


def ipv4_packet(datagram: bytes | np.ndarray) -> np.ndarray:
    """One IPv4 datagram -> one ALP packet (packet_type 000, PC=0, HM=0)."""
    d = np.frombuffer(bytes(datagram), np.uint8) if isinstance(datagram, bytes | bytearray) \
        else np.asarray(datagram, np.uint8)
    if not 20 <= d.size <= MAX_IP:
        raise ConfigError(f"IPv4 datagram of {d.size} bytes: ALP single packets carry 20..{MAX_IP} "
                          "bytes (fragment larger datagrams at the IP layer)")
    if d[0] >> 4 != 4:
        raise ConfigError(f"IPv4 datagram: version {d[0] >> 4}, expected 4")
    return np.concatenate([np.array([d.size >> 8, d.size & 0xFF], np.uint8), d])


class IpEncapsulator:
    """Streaming IPv4 -> ALP: ``push(datagrams) -> (alp bytes, start offsets)``; the input is
    whole datagrams back to back. Datagrams longer than 2047 bytes (``datagrams_too_long``) and
    bytes that do not parse as IPv4 (``bad_bytes``) are dropped and counted.
    Counters also: ``datagrams`` (carried), ``alp_packets``."""

    def __init__(self):
        self.pending = np.zeros(0, np.uint8)  # input is whole datagrams: nothing waits
        self.counters = {"datagrams": 0, "datagrams_too_long": 0, "bad_bytes": 0, "alp_packets": 0}

    def push(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        grams, bad = split_datagrams(data)
        self.counters["bad_bytes"] += bad
        ok = [g for g in grams if g.size <= MAX_IP]
        self.counters["datagrams_too_long"] += len(grams) - len(ok)
        self.counters["datagrams"] += len(ok)
        self.counters["alp_packets"] += len(ok)
        return concat_packets([ipv4_packet(g) for g in ok])

    def flush(self) -> tuple[np.ndarray, np.ndarray]:
        return concat_packets([])


class Decapsulator:
    """ALP bytes (a stream of whole packets) -> (TS bytes, IPv4 datagrams); re-inserts deleted
    null packets and rebuilds deleted headers. Other packet types are counted and skipped
    (``other_packets``)."""

    def __init__(self):
        self.pending = np.zeros(0, np.uint8)
        self.counters = {"ts_packets": 0, "nulls_restored": 0, "ipv4_packets": 0, "other_packets": 0}

    def reset(self) -> None:
        """Forget a partial packet (the stream was cut); counters stay."""
        self.pending = np.zeros(0, np.uint8)

    @staticmethod
    def _length(buf: np.ndarray, i: int) -> int | None:
        """Total length of the ALP packet at ``i``, None if its header is incomplete."""
        if i >= buf.size:
            return None
        b0 = int(buf[i])
        if b0 >> 5 == 0b111:  # TS mode
            numts = (b0 >> 1) & 0x0F or 16
            if not b0 & 1:
                return 1 + 187 * numts
            if i + 1 >= buf.size:
                return None
            hdm = buf[i + 1] >> 7
            return 2 + (3 + 184 * numts if hdm else 187 * numts)
        if i + 1 >= buf.size:
            return None
        length = ((b0 & 0x07) << 8) | int(buf[i + 1])
        extra = 5 if b0 >> 5 == 0b100 else 0  # signalling information header
        if b0 & 0x10 or b0 & 0x08:  # PC=1 or HM=1: additional header (skipped, best effort)
            extra += 1
        return 2 + extra + length

    def push(self, alp: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        buf = np.concatenate([self.pending, np.asarray(alp, np.uint8)])
        out, ip, i = [], [], 0
        while True:
            n = self._length(buf, i)
            if n is None or i + n > buf.size:
                break
            pkt = buf[i:i + n]
            i += n
            if pkt[0] >> 5 == 0 and not pkt[0] & 0x18:  # IPv4, single packet, HM=0
                ip.append(pkt[2:])
                self.counters["ipv4_packets"] += 1
                continue
            if pkt[0] >> 5 != 0b111:
                self.counters["other_packets"] += 1
                continue
            numts = (int(pkt[0]) >> 1) & 0x0F or 16
            dnp, hdm, body = 0, 0, pkt[1:]
            if pkt[0] & 1:
                hdm, dnp = int(pkt[1]) >> 7, int(pkt[1]) & 0x7F
                dnp = dnp or (0 if hdm else MAX_DNP)
                body = pkt[2:]
            if dnp:
                out.append(null_packets(dnp))
                self.counters["nulls_restored"] += dnp
            if hdm:
                head = body[:3]
                first = np.concatenate([[SYNC], head, body[3:187]])
                pkts = [first]
                for k in range(1, numts):
                    h = head.copy()
                    h[2] = (int(h[2]) & 0xF0) | ((int(h[2]) + k) & 0x0F)
                    pkts.append(np.concatenate([[SYNC], h, body[187 + 184 * (k - 1):187 + 184 * k]]))
            else:
                pkts = [np.concatenate([[SYNC], body[187 * k:187 * (k + 1)]]) for k in range(numts)]
            out.extend(np.asarray(p, np.uint8) for p in pkts)
            self.counters["ts_packets"] += numts
        self.pending = buf[i:]
        return (np.concatenate(out) if out else np.zeros(0, np.uint8)), ip
