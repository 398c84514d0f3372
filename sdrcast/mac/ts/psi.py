"""MPEG-TS program-specific information (ISO/IEC 13818-1 §2.4.4) and the SDT (ETSI EN 300 468
§5.2.3): sections reassembled from packets (``SectionAssembler``), read (``parse_section``,
``parse_pat``, ``parse_pmt``, ``parse_sdt``) and built (``section``, ``pat``, ``pmt``, ``sdt``),
each long section with its CRC_32 (MPEG-2). Readers raise ``ParseError`` naming the field."""
from __future__ import annotations

from dataclasses import dataclass

from sdrcast.errors import ParseError
from sdrcast.phy.crc import CRC32_MPEG2

PID_PAT, PID_CAT, PID_NIT, PID_SDT, PID_EIT, PID_TOT = 0x0000, 0x0001, 0x0010, 0x0011, 0x0012, 0x0014
TABLE_PAT, TABLE_CAT, TABLE_PMT, TABLE_SDT = 0x00, 0x01, 0x02, 0x42
MAX_SECTION = 4096  # 3-byte header + section_length up to 4093 (private sections)
STREAM_TYPES = {0x02: "MPEG-2 video", 0x03: "MPEG-1 audio", 0x04: "MPEG-2 audio", 0x06: "PES private",
                0x0F: "AAC audio", 0x1B: "H.264 video", 0x24: "HEVC video", 0x81: "AC-3 audio"}


@dataclass(frozen=True)
class Section:
    """One section: ``table_id``; for long sections (section_syntax_indicator 1) the
    table_id_extension, version, current_next, section numbers and ``crc_ok``; ``body`` the
    bytes between the header and the CRC (all of it for short sections)."""

    table_id: int
    long: bool
    extension: int = 0
    version: int = 0
    current: bool = True
    number: int = 0
    last: int = 0
    body: bytes = b""
    crc_ok: bool = True


def parse_section(data: bytes) -> Section:
    """A whole section (its length as section_length says) -> ``Section``."""
    if len(data) < 3:
        raise ParseError(f"PSI section of {len(data)} bytes: the header needs 3")
    table_id, long = data[0], bool(data[1] & 0x80)
    length = ((data[1] & 0x0F) << 8) | data[2]
    if len(data) != 3 + length:
        raise ParseError(f"PSI section_length {length}: {len(data) - 3} bytes follow the header")
    if not long:
        return Section(table_id, False, body=bytes(data[3:]))
    if length < 9:
        raise ParseError(f"PSI section_length {length}: a long section needs at least 9")
    return Section(table_id, True, (data[3] << 8) | data[4], (data[5] >> 1) & 0x1F, bool(data[5] & 1),
                   data[6], data[7], bytes(data[8:-4]), CRC32_MPEG2(bytes(data)) == 0)


def section(table_id: int, extension: int, body: bytes, version: int = 0, number: int = 0,
            last: int = 0) -> bytes:
    """A long section with its CRC_32."""
    length = 5 + len(body) + 4
    if length > MAX_SECTION - 3:
        raise ParseError(f"PSI section body of {len(body)} bytes: at most {MAX_SECTION - 12}")
    head = bytes([table_id, 0xB0 | (length >> 8), length & 0xFF, extension >> 8, extension & 0xFF,
                  0xC1 | ((version & 0x1F) << 1), number, last])
    data = head + bytes(body)
    return data + CRC32_MPEG2(data).to_bytes(4, "big")


def _need(s: Section, table_id: int, name: str) -> None:
    if s.table_id != table_id or not s.long:
        raise ParseError(f"{name}: table_id 0x{s.table_id:02X}, expected a long section 0x{table_id:02X}")


def parse_pat(s: Section) -> dict[int, int]:
    """PAT -> {program_number: PMT PID} (program 0 is the network PID)."""
    _need(s, TABLE_PAT, "PAT")
    if len(s.body) % 4:
        raise ParseError(f"PAT: {len(s.body)} bytes of programs is not a multiple of 4")
    b = s.body
    return {(b[i] << 8) | b[i + 1]: ((b[i + 2] & 0x1F) << 8) | b[i + 3] for i in range(0, len(b), 4)}


def pat(tsid: int, programs: dict[int, int], version: int = 0) -> bytes:
    body = b"".join(bytes([p >> 8, p & 0xFF, 0xE0 | (pid >> 8), pid & 0xFF]) for p, pid in programs.items())
    return section(TABLE_PAT, tsid, body, version)


@dataclass(frozen=True)
class Pmt:
    """A program's map: its number, PCR PID and elementary streams ``(stream_type, PID)``."""

    program: int
    pcr_pid: int
    streams: tuple[tuple[int, int], ...]


def parse_pmt(s: Section) -> Pmt:
    _need(s, TABLE_PMT, "PMT")
    b = s.body
    if len(b) < 4:
        raise ParseError(f"PMT: body of {len(b)} bytes, needs 4 before the streams")
    info = ((b[2] & 0x0F) << 8) | b[3]
    i, streams = 4 + info, []
    if i > len(b):
        raise ParseError(f"PMT program_info_length {info}: beyond the section ({len(b)} bytes)")
    while i < len(b):
        if i + 5 > len(b):
            raise ParseError(f"PMT: a stream entry cut at byte {i} of {len(b)}")
        es_info = ((b[i + 3] & 0x0F) << 8) | b[i + 4]
        streams.append((b[i], ((b[i + 1] & 0x1F) << 8) | b[i + 2]))
        i += 5 + es_info
        if i > len(b):
            raise ParseError(f"PMT ES_info_length {es_info}: beyond the section ({len(b)} bytes)")
    return Pmt(s.extension, ((b[0] & 0x1F) << 8) | b[1], tuple(streams))


def pmt(program: int, pcr_pid: int, streams: list[tuple[int, int]], version: int = 0) -> bytes:
    body = bytes([0xE0 | (pcr_pid >> 8), pcr_pid & 0xFF, 0xF0, 0x00])
    body += b"".join(bytes([t, 0xE0 | (pid >> 8), pid & 0xFF, 0xF0, 0x00]) for t, pid in streams)
    return section(TABLE_PMT, program, body, version)


def parse_sdt(s: Section) -> dict[int, tuple[str, str]]:
    """SDT actual -> {service_id: (provider, name)} from the service descriptors (tag 0x48)."""
    _need(s, TABLE_SDT, "SDT")
    b, out, i = s.body, {}, 3  # original_network_id (2), reserved (1)
    while i < len(b):
        if i + 5 > len(b):
            raise ParseError(f"SDT: a service entry cut at byte {i} of {len(b)}")
        sid, loop = (b[i] << 8) | b[i + 1], ((b[i + 3] & 0x0F) << 8) | b[i + 4]
        j, end = i + 5, i + 5 + loop
        if end > len(b):
            raise ParseError(f"SDT descriptors_loop_length {loop}: beyond the section ({len(b)} bytes)")
        provider = name = ""
        while j + 2 <= end:
            tag, n = b[j], b[j + 1]
            d = b[j + 2:j + 2 + n]
            if j + 2 + n > end:
                raise ParseError(f"SDT descriptor 0x{tag:02X} length {n}: beyond its loop")
            if tag == 0x48 and n >= 3:  # service_descriptor
                pl = d[1]
                provider = d[2:2 + pl].decode("latin-1")
                nl = d[2 + pl] if 2 + pl < n else 0
                name = d[3 + pl:3 + pl + nl].decode("latin-1")
            j += 2 + n
        out[sid] = (provider, name)
        i = end
    return out


def sdt(tsid: int, onid: int, services: dict[int, tuple[str, str]], version: int = 0) -> bytes:
    body = bytes([onid >> 8, onid & 0xFF, 0xFF])
    for sid, (provider, name) in services.items():
        p, n = provider.encode("latin-1"), name.encode("latin-1")
        desc = bytes([0x48, 3 + len(p) + len(n), 0x01, len(p)]) + p + bytes([len(n)]) + n
        body += bytes([sid >> 8, sid & 0xFF, 0xFC, 0x80 | (len(desc) >> 8), len(desc) & 0xFF]) + desc
    return section(TABLE_SDT, tsid, body, version)


class SectionAssembler:
    """Sections of one PID from its packets' payloads (pointer_field on payload_unit_start,
    sections spanning packets, several in one packet, 0xFF stuffing). A lost packet (``lost``)
    drops the section being assembled; a pending section is bounded by ``MAX_SECTION``."""

    def __init__(self):
        self.pending: bytearray | None = None

    def lost(self) -> None:
        self.pending = None

    def feed(self, payload: bytes, unit_start: bool) -> list[bytes]:
        if unit_start:
            if not payload:
                raise ParseError("PSI packet with payload_unit_start and no pointer_field")
            pointer = payload[0]
            if 1 + pointer > len(payload):
                raise ParseError(f"PSI pointer_field {pointer}: beyond the payload ({len(payload)} bytes)")
            out = []
            if self.pending is not None:
                self.pending += payload[1:1 + pointer]
                out = self._complete(final=True)
            self.pending = bytearray(payload[1 + pointer:])
            return out + self._complete()
        if self.pending is None:
            return []
        self.pending += payload
        return self._complete()

    def _complete(self, final: bool = False) -> list[bytes]:
        out, buf = [], self.pending
        while len(buf) >= 3 and buf[0] != 0xFF:
            n = 3 + (((buf[1] & 0x0F) << 8) | buf[2])
            if len(buf) < n:
                break
            out.append(bytes(buf[:n]))
            buf = buf[n:]
        if final or len(buf) > MAX_SECTION or (buf and buf[0] == 0xFF):
            buf = None  # cut short, over-long, or stuffing: nothing more to assemble here
        self.pending = bytearray(buf) if buf else None  # a new section starts only at a pointer
        return out
