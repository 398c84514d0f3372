"""IPv4/UDP datagrams (RFC 791, RFC 768) as broadcast payloads: build one around a UDP payload
received from a socket (the socket strips the headers the air interface must carry), give a
captured one correct checksums, and split a byte stream of whole datagrams at their
total-length fields."""
from __future__ import annotations

import ipaddress
import struct

import numpy as np

from sdrcast.errors import ConfigError, ParseError

IPV4_HEADER = 20
UDP_HEADER = 8
MAX_DATAGRAM = 65535


def _checksum(data: bytes) -> int:
    """Internet checksum: ones' complement of the ones' complement sum of 16-bit words."""
    if len(data) % 2:
        data += b"\0"
    s = int(np.frombuffer(data, ">u2").sum(dtype=np.uint64))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_datagram(payload: bytes, src: tuple[str, int], dst: tuple[str, int], ttl: int = 64,
                 ident: int = 0) -> bytes:
    """An IPv4 datagram carrying ``payload`` in UDP from ``src`` to ``dst`` (address, port),
    with both checksums."""
    total = IPV4_HEADER + UDP_HEADER + len(payload)
    if total > MAX_DATAGRAM:
        raise ConfigError(f"UDP payload of {len(payload)} bytes: at most "
                          f"{MAX_DATAGRAM - IPV4_HEADER - UDP_HEADER} fit an IPv4 datagram")
    s, d = ipaddress.IPv4Address(src[0]).packed, ipaddress.IPv4Address(dst[0]).packed
    udp_len = UDP_HEADER + len(payload)
    pseudo = s + d + struct.pack(">BBH", 0, 17, udp_len)
    udp = struct.pack(">HHHH", src[1], dst[1], udp_len, 0) + payload
    udp_sum = _checksum(pseudo + udp) or 0xFFFF  # 0 means "no checksum" in UDP
    udp = udp[:6] + struct.pack(">H", udp_sum) + udp[8:]
    head = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, ident & 0xFFFF, 0x4000, ttl, 17, 0, s, d)
    head = head[:10] + struct.pack(">H", _checksum(head)) + head[12:]
    return head + udp


def with_checksums(datagram: bytes) -> bytes:
    """An IPv4 datagram with its header checksum, and for a whole (unfragmented) UDP datagram
    its UDP checksum, recomputed: captures often hold zeros or garbage there, left for the
    network card to fill in (checksum offload). Other protocols' payloads are left alone."""
    ihl = (datagram[0] & 0x0F) * 4 if datagram else 0
    if ihl < IPV4_HEADER or len(datagram) < ihl:
        raise ParseError(f"IPv4 header length {ihl} in a datagram of {len(datagram)} bytes")
    head = bytearray(datagram[:ihl])
    head[10:12] = b"\0\0"
    head[10:12] = struct.pack(">H", _checksum(bytes(head)))
    body = bytes(datagram[ihl:])
    fragment = struct.unpack(">H", bytes(datagram[6:8]))[0] & 0x3FFF  # MF flag or an offset
    if datagram[9] == 17 and not fragment and len(body) >= UDP_HEADER:
        udp_len = struct.unpack(">H", body[4:6])[0]
        if UDP_HEADER <= udp_len <= len(body):
            pseudo = bytes(datagram[12:20]) + struct.pack(">BBH", 0, 17, udp_len)
            udp = body[:6] + b"\0\0" + body[8:udp_len]
            body = udp[:6] + struct.pack(">H", _checksum(pseudo + udp) or 0xFFFF) + body[8:]
    return bytes(head) + body


def checksum_ok(datagram: bytes) -> bool:
    """The IPv4 header checksum verifies."""
    ihl = (datagram[0] & 0x0F) * 4
    return _checksum(bytes(datagram[:ihl])) == 0


def split_datagrams(data: np.ndarray) -> tuple[list[np.ndarray], int]:
    """Whole IPv4 datagrams back to back -> (datagrams, bytes left over that do not form one:
    a bad version or a length running past the end)."""
    data = np.asarray(data, np.uint8)
    out, i = [], 0
    while i + IPV4_HEADER <= data.size:
        n = (int(data[i + 2]) << 8) | int(data[i + 3])
        if data[i] >> 4 != 4 or n < IPV4_HEADER or i + n > data.size:
            break
        out.append(data[i:i + n])
        i += n
    return out, data.size - i


def flow(datagram: bytes) -> str:
    """The flow an IPv4 datagram belongs to: ``"DST:PORT"`` for UDP (and TCP), ``"DST"``
    otherwise; ``ParseError`` for what is not an IPv4 header."""
    if len(datagram) < 20 or datagram[0] >> 4 != 4 or (datagram[0] & 0x0F) < 5:
        raise ParseError(f"IPv4 header: version/IHL byte 0x{datagram[:1].hex() or '--'} "
                         f"in {len(datagram)} bytes")
    dst = str(ipaddress.IPv4Address(bytes(datagram[16:20])))
    ihl = (datagram[0] & 0x0F) * 4
    if datagram[9] in (6, 17) and len(datagram) >= ihl + 4:
        return f"{dst}:{struct.unpack('>H', datagram[ihl + 2:ihl + 4])[0]}"
    return dst
