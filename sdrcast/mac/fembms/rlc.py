"""RLC unacknowledged mode with a 5-bit sequence number (3GPP TS 36.322 6.2.1.3), as the MCCH and
MTCH use it: a one-byte header FI(2) | E(1) | SN(5) per PDU; one SDU (an IP packet, PDCP being
transparent on MRBs) split over PDUs where it does not fit (FI: 00 whole, 01 first, 11 middle,
10 last). ``RlcUmTx`` cuts SDUs to the sizes the MAC asks for; ``RlcUmRx`` reassembles, counting
lost SNs and dropping segments it cannot complete."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from sdrcast.errors import ParseError

SN_MODULUS = 32
HEADER = 1


def header(fi: int, sn: int) -> bytes:
    return bytes([(fi << 6) | (sn % SN_MODULUS)])


def parse(pdu: bytes) -> tuple[int, int, bytes]:
    """PDU -> (FI, SN, data). Only single-SDU PDUs (E = 0) are sent here; E = 1 is refused."""
    if len(pdu) < 2:
        raise ParseError(f"RLC UM PDU of {len(pdu)} bytes: needs a header and data")
    if pdu[0] & 0x20:
        raise ParseError("RLC UM header E=1 (several SDUs in one PDU) is not supported; allowed: E=0")
    return pdu[0] >> 6, pdu[0] & 0x1F, bytes(pdu[1:])


@dataclass
class RlcUmTx:
    """SDUs in, PDUs out at the sizes asked for. ``sn`` restarts at 0 with ``reset()`` (the
    5G-MAG modem expects SN 0 at the start of every MCH scheduling period)."""

    queue: deque = field(default_factory=deque)  # (sdu, offset)
    sn: int = 0
    pending: int = 0  # bytes waiting, headers included (one per SDU or remaining segment)

    def push(self, sdu: bytes) -> None:
        self.queue.append((bytes(sdu), 0))
        self.pending += len(sdu) + HEADER

    def drop_oldest(self) -> int:
        """Discard the head SDU (what is left of it); returns its bytes."""
        sdu, off = self.queue.popleft()
        self.pending -= len(sdu) - off + HEADER
        return len(sdu) - off

    def reset(self) -> None:
        self.sn = 0

    def peek(self) -> int | None:
        """Size of the PDU that would carry the rest of the head SDU (None: nothing waits)."""
        return len(self.queue[0][0]) - self.queue[0][1] + HEADER if self.queue else None

    def pull(self, size: int) -> bytes | None:
        """The next PDU of at most ``size`` bytes (None if nothing waits or size < 2)."""
        if not self.queue or size <= HEADER:
            return None
        sdu, off = self.queue[0]
        take = min(len(sdu) - off, size - HEADER)
        end = off + take == len(sdu)
        fi = (0 if off == 0 else 0b10) | (0 if end else 0b01)  # not first | not last
        pdu = header(fi, self.sn) + sdu[off:off + take]
        self.pending -= take + (HEADER if end else 0)
        self.sn = (self.sn + 1) % SN_MODULUS
        if end:
            self.queue.popleft()
        else:
            self.queue[0] = (sdu, off + take)
        return pdu


@dataclass
class RlcUmRx:
    """PDUs in order of arrival -> whole SDUs; ``lost`` counts SNs never seen and
    ``dropped`` the segments of SDUs that could not be completed."""

    expected: int | None = None
    partial: bytearray | None = None
    lost: int = 0
    dropped: int = 0

    def reset(self) -> None:
        self.expected, self.partial = None, None

    def push(self, pdu: bytes) -> list[bytes]:
        fi, sn, data = parse(pdu)
        out = []
        if self.expected is not None and sn != self.expected:
            self.lost += (sn - self.expected) % SN_MODULUS
            if self.partial is not None:
                self.dropped += 1
                self.partial = None
        self.expected = (sn + 1) % SN_MODULUS
        first, last = not (fi & 0b10), not (fi & 0b01)
        if first:
            if self.partial is not None:
                self.dropped += 1
            self.partial = bytearray(data)
        elif self.partial is None:
            self.dropped += 1  # a middle or last segment without its start
            return out
        else:
            self.partial += data
        if last and self.partial is not None:
            out.append(bytes(self.partial))
            self.partial = None
        return out
