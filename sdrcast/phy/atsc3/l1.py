"""A/322 9.2/9.3 L1 signalling: L1-Basic (200 bits) and L1-Detail (variable) as bits, each
ending with the L1 CRC-32 (x^32+x^21+x^16+x^11+1 as gr-atsc3 and the A/322 transcription write
it, init all ones). Syntax from ``l1_signalling.json``; the L1-Basic reserved field is the A/322
2024 edition's 48 bits (all ones), as gr-atsc3 sends.

Field values are a mapping from the standard's field names to integers. In loops, a field's
value is indexed by the loop variables in nesting order: subframe-level fields (``L1D_fft_size``...)
by subframe, PLP-level fields (``L1D_plp_*``) by subframe then PLP; a scalar applies to all.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sdrcast.errors import ConfigError, ParseError
from sdrcast.phy.fec.crc_outer import ATSC3_CRC32
from sdrcast.phy.kernels.crc import crc_bits
from sdrcast.phy.tables import load_json

L1B_BITS = 200


def l1_crc(bits: np.ndarray) -> np.ndarray:
    """The CRC-32 L1-Basic and L1-Detail end with (A/322 6.3), as 32 bits."""
    c = ATSC3_CRC32
    v = crc_bits(np.ascontiguousarray(bits, np.uint8), c.width, c.poly, c.init) ^ c.xorout
    return ((v >> np.arange(31, -1, -1)) & 1).astype(np.uint8)


def _put(out: list[int], name: str, value: int, width: int) -> None:
    value = int(value)
    if not 0 <= value < (1 << width):
        raise ConfigError(f"{name}={value} does not fit its {width} bits (0..{(1 << width) - 1})")
    out.extend((value >> i) & 1 for i in range(width - 1, -1, -1))


def l1_basic_layout(frame_length_mode: int) -> list[tuple[str, int]]:
    sig = load_json("atsc3", "l1_signalling.json")["L1_Basic"]
    flat = sig["flat_symbol_aligned" if frame_length_mode else "flat_time_aligned"]
    out, merged = [], False
    for name, width in flat:  # 2024 edition: first_sub_mimo_mixed is part of a 48-bit reserved
        if name == "L1B_first_sub_mimo_mixed":
            merged = True
            continue
        out.append((name, width + 1 if name == "L1B_reserved" and merged else width))
    return out


def l1_basic(fields: Mapping[str, int]) -> np.ndarray:
    """The 200 L1-Basic bits (CRC appended; reserved bits all ones unless given)."""
    out: list[int] = []
    for name, width in l1_basic_layout(fields.get("L1B_frame_length_mode", 1)):
        if name == "L1B_crc":
            continue
        if name == "L1B_reserved":
            value = fields.get(name, (1 << width) - 1)
        elif name not in fields:
            raise ConfigError(f"L1-Basic field {name} has no value")
        else:
            value = fields[name]
        _put(out, name, value, width)
    bits = np.array(out, np.uint8)
    return np.concatenate([bits, l1_crc(bits)])


def parse_l1_basic(bits: np.ndarray) -> dict[str, int]:
    """The fields of 200 L1-Basic bits (mode read from the frame_length_mode bit); raises
    ``ParseError`` on a CRC mismatch or a wrong length."""
    bits = np.asarray(bits, np.uint8)
    if bits.size != L1B_BITS:
        raise ParseError(f"L1-Basic: {bits.size} bits, expected {L1B_BITS}")
    if not np.array_equal(l1_crc(bits[:-32]), bits[-32:]):
        raise ParseError("L1-Basic CRC-32 mismatch")
    out, a = {}, 0
    for name, width in l1_basic_layout(int(bits[10])):  # L1B_frame_length_mode
        out[name] = int("".join(map(str, bits[a:a + width])), 2)
        a += width
    return out


class _Writer:
    """Walks the L1-Detail syntax writing fields (``bits=None``) or reading them from ``bits``."""

    def __init__(self, fields: Mapping, l1b: Mapping, bits: np.ndarray | None = None):
        self.fields, self.l1b, self.out = fields, l1b, []
        self.loops: dict[str, int] = {}
        self.bits, self.pos = bits, 0

    def _store(self, name: str, value: int) -> None:
        """Reading: keep ``value`` under the current loop indices (nested lists)."""
        idx = [self.loops[v] - (1 if v == "L1D_rf_id" else 0)
               for v in ("i", "j", "k", "L1D_rf_id") if v in self.loops and name not in ("L1D_bsid",)]
        if not idx:
            self.fields[name] = value
            return
        node = self.fields.setdefault(name, [])
        for n, x in enumerate(idx):
            while len(node) <= x:
                node.append([] if n < len(idx) - 1 else 0)
            if n < len(idx) - 1:
                node = node[x]
            else:
                node[x] = value

    def value(self, name: str) -> int:
        if name in self.loops:
            return self.loops[name]
        if name.startswith("L1B_"):
            return self.l1b[name]
        if name not in self.fields:
            raise ConfigError(f"L1-Detail field {name} has no value")
        v = self.fields[name]
        for var in ("i", "j", "k", "L1D_rf_id"):  # nesting order of the syntax's loops
            if isinstance(v, list | tuple) and var in self.loops:
                v = v[self.loops[var] - (1 if var == "L1D_rf_id" else 0)]
        if isinstance(v, list | tuple):
            raise ConfigError(f"L1-Detail field {name}: a list where one value is needed")
        return int(v)

    def cond(self, expr: str) -> bool:
        writer = self

        class Env(dict):  # names resolved only when evaluated (and/or short-circuit)
            def __missing__(self, key):
                return writer.value(key)

        return bool(eval(expr, {"__builtins__": {}}, Env()))  # noqa: S307 (package table syntax)

    def run(self, items: list) -> None:
        for item in items:
            if item[0] == "field":
                _, name, width = item
                if name == "L1D_reserved":
                    continue  # appended at the end, up to a whole byte
                if name == "L1D_crc":
                    continue
                if self.bits is not None:
                    v = int("".join(map(str, self.bits[self.pos:self.pos + width])), 2)
                    self.pos += width
                    self._store(name, v)
                else:
                    _put(self.out, name, self.value(name), width)
            elif item[0] == "if":
                if self.cond(item[1]):
                    self.run(item[2])
                elif len(item) > 3:
                    self.run(item[3])
            elif item[0] == "for":
                _, var, rng, body = item
                lo, hi = (s.strip() for s in rng.split(".."))
                lo_v = int(lo)
                hi_v = int(hi) if hi.isdigit() else self.value(hi)
                for x in range(lo_v, hi_v + 1):
                    self.loops[var] = x
                    self.run(body)
                self.loops.pop(var, None)


MIN_DETAIL_BYTES = 25  # gr-atsc3 never sends a shorter L1-Detail (reserved bits fill it)


def l1_detail(fields: Mapping, l1b: Mapping[str, int], size_bytes: int | None = None) -> np.ndarray:
    """L1-Detail bits: the fields, reserved bits (ones) up to ``size_bytes`` (by default the
    larger of ``MIN_DETAIL_BYTES`` and the whole bytes needed) including the CRC-32."""
    w = _Writer(fields, l1b)
    w.run(load_json("atsc3", "l1_signalling.json")["L1_Detail"]["syntax_A322_2024_edition"])
    bits = np.array(w.out, np.uint8)
    need = -(-(bits.size + 32) // 8)
    size = max(MIN_DETAIL_BYTES, need) if size_bytes is None else size_bytes
    if size < need:
        raise ConfigError(f"L1B_L1_Detail_size_bytes={size}: the L1-Detail needs {need} bytes")
    bits = np.concatenate([bits, np.ones(8 * size - 32 - bits.size, np.uint8)])
    return np.concatenate([bits, l1_crc(bits)])


def parse_l1_detail(bits: np.ndarray, l1b: Mapping[str, int]) -> dict:
    """The fields of L1-Detail ``bits`` (CRC checked), in the layout ``l1_detail`` takes
    (the trailing reserved bits are not returned). A CRC mismatch, or fields that run past the
    bits or do not fit L1-Basic (possible with a valid CRC on corrupted or foreign data), raise
    ``ParseError``."""
    bits = np.asarray(bits, np.uint8)
    if bits.size < 32 or not np.array_equal(l1_crc(bits[:-32]), bits[-32:]):
        raise ParseError("L1-Detail CRC-32 mismatch")
    fields: dict = {}
    w = _Writer(fields, l1b, bits[:-32])
    try:
        w.run(load_json("atsc3", "l1_signalling.json")["L1_Detail"]["syntax_A322_2024_edition"])
    except (ValueError, IndexError, KeyError, TypeError, OverflowError) as exc:
        raise ParseError(f"L1-Detail does not parse against L1-Basic: {exc}") from None
    return fields
