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


CRC32 = Crc(32, 0x04C11DB7, 0xFFFFFFFF, True, True, 0xFFFFFFFF)
CRC32_MPEG2 = Crc(32, 0x04C11DB7, 0xFFFFFFFF)
CRC16_CCITT_FALSE = Crc(16, 0x1021, 0xFFFF)
CRC16_ARC = Crc(16, 0x8005, 0, True, True)
CRC8 = Crc(8, 0x07)
