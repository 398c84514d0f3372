"""MCH MAC PDUs (3GPP TS 36.321 6.1.2, 6.1.3.7, 6.2.1, Table 6.2.1-4): subheaders R/F2/E/LCID
[F/L], then the MSI control element, the MCCH SDU, MTCH SDUs, and padding. Padding of one or
two bytes goes in as one or two padding subheaders at the start; more as one padding
subheader at the end; the last subheader carries no length. A PDU always fills its transport
block (a padding-only PDU where there is nothing to send), so no MBSFN subframe goes empty."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sdrcast.errors import ParseError

LCID_MCCH, LCID_MSI, LCID_PADDING = 0, 30, 31
LCID_MTCH_MAX = 28  # MTCHs are LCIDs 1-28 (36.321 Table 6.2.1-4)
NOT_SCHEDULED = 2047  # Stop MTCH: this MTCH is not scheduled in the period


def msi(entries: list[tuple[int, int]]) -> bytes:
    """MCH scheduling information: LCID(5) | Stop MTCH(11) for each MTCH (6.1.3.7)."""
    return b"".join(((lcid << 11) | stop).to_bytes(2, "big") for lcid, stop in entries)


def parse_msi(ce: bytes) -> list[tuple[int, int]]:
    if len(ce) % 2:
        raise ParseError(f"MSI of {len(ce)} bytes: needs 2 bytes per MTCH")
    return [(int.from_bytes(ce[i:i + 2], "big") >> 11, int.from_bytes(ce[i:i + 2], "big") & 0x7FF)
            for i in range(0, len(ce), 2)]


def _subheader(lcid: int, length: int | None) -> bytes:
    """E is set later; ``length`` None: no L field (last subheader)."""
    if length is None:
        return bytes([lcid])
    if length < 128:
        return bytes([lcid, length])
    if length < 32768:
        return bytes([lcid, 0x80 | (length >> 8), length & 0xFF])
    raise ParseError(f"MAC SDU of {length} bytes: at most 32767")


def subheader_size(length: int) -> int:
    return 2 if length < 128 else 3


def pack(elements: list[tuple[int, bytes]], size: int) -> bytes:
    """(LCID, payload) in order -> a PDU of exactly ``size`` bytes."""
    body = sum(len(p) for _, p in elements)
    full = [_subheader(lcid, len(p)) for lcid, p in elements]
    last_plain = sum(map(len, full[:-1])) + (1 if elements else 0) + body
    if elements and last_plain == size:  # fits exactly: the last subheader has no L
        heads = full[:-1] + [_subheader(elements[-1][0], None)]
    elif elements and size - last_plain in (1, 2):  # one or two padding subheaders first
        heads = [_subheader(LCID_PADDING, None)] * (size - last_plain) + full[:-1] + \
            [_subheader(elements[-1][0], None)]
    else:
        heads = full + [_subheader(LCID_PADDING, None)]
    used = sum(map(len, heads)) + body
    if used > size:
        raise ParseError(f"MAC PDU content of {used} bytes exceeds the transport block of {size}")
    heads = [bytes([h[0] | (0x20 if i < len(heads) - 1 else 0)]) + h[1:] for i, h in enumerate(heads)]
    return b"".join(heads) + b"".join(p for _, p in elements) + bytes(size - used)


def room(elements: list[tuple[int, bytes]], size: int) -> int:
    """Bytes left for one more SDU (its subheader counted, 3 bytes at worst)."""
    used = sum(subheader_size(len(p)) + len(p) for _, p in elements)
    return size - used - 3


@dataclass(frozen=True)
class MchPdu:
    elements: list[tuple[int, bytes]]  # (LCID, payload) without padding


def unpack(pdu: bytes | np.ndarray) -> MchPdu:
    """A received transport block -> its control elements and SDUs (padding dropped); a
    malformed header raises ParseError naming the field."""
    pdu = bytes(pdu)
    heads, i = [], 0
    while True:
        if i >= len(pdu):
            raise ParseError("MAC PDU ends inside its header (no subheader with E=0)")
        b = pdu[i]
        more, lcid = bool(b & 0x20), b & 0x1F
        if b & 0xC0:
            raise ParseError(f"MAC subheader R/F2 bits set (0x{b:02x}); allowed: 0")
        if lcid == LCID_PADDING or not more:
            heads.append((lcid, None))
            i += 1
        elif i + 1 < len(pdu) and pdu[i + 1] & 0x80:
            if i + 2 >= len(pdu):
                raise ParseError("MAC subheader L field cut off")
            heads.append((lcid, ((pdu[i + 1] & 0x7F) << 8) | pdu[i + 2]))
            i += 3
        elif i + 1 < len(pdu):
            heads.append((lcid, pdu[i + 1] & 0x7F))
            i += 2
        else:
            raise ParseError("MAC subheader L field cut off")
        if not more:
            break
    out, pos = [], i
    for n, (lcid, length) in enumerate(heads):
        if lcid == LCID_PADDING:
            if n == len(heads) - 1:
                break
            continue
        if length is None:  # the last subheader: the SDU runs to the end
            length = len(pdu) - pos
        if lcid not in (LCID_MCCH, LCID_MSI) and not 1 <= lcid <= 28:
            raise ParseError(f"MCH LCID {lcid} is reserved; allowed: 0 (MCCH), 1-28 (MTCH), 30 (MSI), 31")
        if pos + length > len(pdu):
            raise ParseError(f"MAC SDU of LCID {lcid} ({length} bytes) runs past the PDU end")
        out.append((lcid, pdu[pos:pos + length]))
        pos += length
    return MchPdu(out)
