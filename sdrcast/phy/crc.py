"""CRC objects with the usual catalogue parameters, built on ``kernels.crc``."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sdrcast.phy.kernels import crc as k


@dataclass(frozen=True)
class Crc:
    """A CRC in the Rocksoft model. ``poly`` excludes the x^width term."""

    width: int
    poly: int
    init: int = 0
    refin: bool = False
    refout: bool = False
    xorout: int = 0

    def __post_init__(self):
        from sdrcast.config import require_range

        require_range("width", self.width, 1, 32)

    @cached_property
    def table(self) -> np.ndarray:
        return k.crc_table(self.width, self.poly, self.refin)

    def __call__(self, data: bytes | np.ndarray) -> int:
        """CRC of a byte string or uint8 array."""
        arr = np.frombuffer(bytes(data), np.uint8) if isinstance(data, bytes | bytearray) else \
            np.ascontiguousarray(data, np.uint8)
        return int(k.crc_bytes(arr, self.table, self.width, self.init, self.refin, self.refout,
                               self.xorout))

    def parity(self, bits: np.ndarray) -> np.ndarray:
        """The CRC of a bit array (any length; non-reflected CRCs) as ``width`` bits, MSB first."""
        bits = np.ascontiguousarray(bits, np.uint8)
        if bits.size % 8 == 0 and not self.refin:  # whole bytes: the table, 8 bits a step
            v = k.crc_bytes(np.packbits(bits), self.table, self.width, self.init, False, False, 0)
        else:
            v = k.crc_bits(bits, self.width, self.poly, self.init)
        return ((v ^ self.xorout) >> np.arange(self.width - 1, -1, -1) & 1).astype(np.uint8)

    def attach(self, bits: np.ndarray) -> np.ndarray:
        """``bits`` followed by their CRC."""
        return np.concatenate([np.asarray(bits, np.uint8), self.parity(bits)])

    def check(self, bits: np.ndarray) -> bool:
        """Whether the last ``width`` bits are the CRC of the bits before them."""
        bits = np.asarray(bits, np.uint8)
        return bool(np.array_equal(self.parity(bits[:-self.width]), bits[-self.width:]))


CRC32 = Crc(32, 0x04C11DB7, 0xFFFFFFFF, True, True, 0xFFFFFFFF)
CRC32_MPEG2 = Crc(32, 0x04C11DB7, 0xFFFFFFFF)
CRC16_CCITT_FALSE = Crc(16, 0x1021, 0xFFFF)
CRC16_ARC = Crc(16, 0x8005, 0, True, True)
CRC8 = Crc(8, 0x07)
# 3GPP TS 36.212 5.1.1: register 0, no final XOR, parity MSB first
CRC24A = Crc(24, 0x864CFB)
CRC24B = Crc(24, 0x800063)
CRC16_LTE = Crc(16, 0x1021)
CRC8_LTE = Crc(8, 0x9B)
