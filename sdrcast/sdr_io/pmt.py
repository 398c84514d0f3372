"""GNU Radio PMT serialisation (the subset stream tags use), as in ``pmt::serialize``.

Big-endian, one type byte then the payload (``pmt_serial_tags.h``): 00 #t, 01 #f, 02 symbol
(u16 length + bytes), 03 int32, 04 double, 05 complex (2 doubles), 06 null, 07 pair, 08 vector
(u32 n + items), 09 dict, 0b uint64, 0c tuple (u32 n + items), 0d int64.

Python mapping: bool <-> #t/#f; str <-> symbol; int -> int32 when it fits, else int64 (uint64 is
read back as int); float <-> double; complex <-> complex; None <-> null; list <-> vector;
tuple <-> tuple; dict <-> dict (``09 07 key value`` per entry, then ``06``); numpy arrays <->
uniform vectors (``0a``, element type, u32 count, one pad-length byte and its pad, items
big-endian).
"""
from __future__ import annotations

import struct
from typing import Any

import numpy as np

from sdrcast.errors import ParseError

T_TRUE, T_FALSE, T_SYMBOL, T_INT32, T_DOUBLE, T_COMPLEX, T_NULL, T_PAIR, T_VECTOR, T_DICT = range(10)
T_UNIFORM_VECTOR, T_UINT64, T_TUPLE, T_INT64 = 0x0A, 0x0B, 0x0C, 0x0D


_UVEC_TYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64,
               np.float32, np.float64, np.complex64, np.complex128]
_UVEC_CODE = {np.dtype(t): i for i, t in enumerate(_UVEC_TYPES)}


class PmtError(ParseError):
    """A PMT could not be serialised or parsed."""


def serialize(value: Any) -> bytes:
    if value is True:
        return bytes([T_TRUE])
    if value is False:
        return bytes([T_FALSE])
    if value is None:
        return bytes([T_NULL])
    if isinstance(value, str):
        b = value.encode()
        if len(b) > 0xFFFF:
            raise PmtError(f"symbol of {len(b)} bytes is longer than 65535")
        return struct.pack(">BH", T_SYMBOL, len(b)) + b
    if isinstance(value, int):
        if -(1 << 31) <= value < (1 << 31):
            return struct.pack(">Bi", T_INT32, value)
        if -(1 << 63) <= value < (1 << 63):
            return struct.pack(">Bq", T_INT64, value)
        if value < (1 << 64):
            return struct.pack(">BQ", T_UINT64, value)
        raise PmtError(f"integer {value} does not fit in 64 bits")
    if isinstance(value, float):
        return struct.pack(">Bd", T_DOUBLE, value)
    if isinstance(value, complex):
        return struct.pack(">Bdd", T_COMPLEX, value.real, value.imag)
    if isinstance(value, tuple):
        return struct.pack(">BI", T_TUPLE, len(value)) + b"".join(serialize(v) for v in value)
    if isinstance(value, list):
        return struct.pack(">BI", T_VECTOR, len(value)) + b"".join(serialize(v) for v in value)
    if isinstance(value, dict):
        # pmt::dict is a list of (key . value) pairs ending in null, each cons cell serialised as
        # 09 <pair(key, value)> <rest>
        out = b""
        for k, v in value.items():
            out += bytes([T_DICT]) + bytes([T_PAIR]) + serialize(k) + serialize(v)
        return out + bytes([T_NULL])
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype in _UVEC_CODE:
        head = struct.pack(">BBIBB", T_UNIFORM_VECTOR, _UVEC_CODE[value.dtype], value.size, 1, 0)
        return head + value.astype(value.dtype.newbyteorder(">")).tobytes()
    if isinstance(value, np.generic):
        return serialize(value.item())
    raise PmtError(f"cannot serialise {type(value).__name__} as a PMT")


def deserialize(buf: bytes, pos: int = 0) -> tuple[Any, int]:
    """Parse one PMT at ``pos``; returns ``(value, next position)``."""
    try:
        t = buf[pos]
        pos += 1
        if t == T_TRUE:
            return True, pos
        if t == T_FALSE:
            return False, pos
        if t == T_NULL:
            return None, pos
        if t == T_SYMBOL:
            (n,) = struct.unpack_from(">H", buf, pos)
            return buf[pos + 2:pos + 2 + n].decode(errors="replace"), pos + 2 + n
        if t == T_INT32:
            return struct.unpack_from(">i", buf, pos)[0], pos + 4
        if t == T_INT64:
            return struct.unpack_from(">q", buf, pos)[0], pos + 8
        if t == T_UINT64:
            return struct.unpack_from(">Q", buf, pos)[0], pos + 8
        if t == T_DOUBLE:
            return struct.unpack_from(">d", buf, pos)[0], pos + 8
        if t == T_COMPLEX:
            re, im = struct.unpack_from(">dd", buf, pos)
            return complex(re, im), pos + 16
        if t == T_PAIR:
            car, pos = deserialize(buf, pos)
            cdr, pos = deserialize(buf, pos)
            return (car, cdr), pos
        if t in (T_VECTOR, T_TUPLE):
            (n,) = struct.unpack_from(">I", buf, pos)
            pos += 4
            items = []
            for _ in range(n):
                v, pos = deserialize(buf, pos)
                items.append(v)
            return (items if t == T_VECTOR else tuple(items)), pos
        if t == T_DICT:
            out = {}
            while True:
                (k, v), pos = deserialize(buf, pos)
                out[k] = v
                if buf[pos] == T_NULL:
                    return out, pos + 1
                if buf[pos] != T_DICT:
                    raise PmtError(f"malformed PMT dict at byte {pos}")
                pos += 1
        if t == T_UNIFORM_VECTOR:
            code, n, npad = struct.unpack_from(">BIB", buf, pos)
            if code >= len(_UVEC_TYPES):
                raise PmtError(f"unknown uniform vector type {code}")
            dtype = np.dtype(_UVEC_TYPES[code]).newbyteorder(">")
            pos += 6 + npad
            end = pos + n * dtype.itemsize
            if end > len(buf):
                raise PmtError(f"truncated PMT at byte {pos}")
            return np.frombuffer(buf[pos:end], dtype).astype(dtype.newbyteorder("=")), end
        raise PmtError(f"unsupported PMT type byte 0x{t:02x} at byte {pos - 1}")
    except PmtError:
        raise
    except (IndexError, struct.error) as exc:
        raise PmtError(f"truncated PMT at byte {pos}") from exc
    except (TypeError, ValueError, RecursionError) as exc:  # e.g. an unhashable dict key
        raise PmtError(f"malformed PMT at byte {pos}: {exc}") from exc
