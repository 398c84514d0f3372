"""CRC-32 outer code of ATSC 3.0 PLPs (A/322 6.1.2: L1D_plp_fec_type "CRC + LDPC").

The polynomial, x^32 + x^21 + x^16 + x^11 + 1 (0x00210801), init 0xFFFFFFFF, no reflection and no
final XOR, comes from gr-atsc3 and the A/322 transcription in Felbs/atsc3, both of which also use
it for the L1-Detail CRC; it is unusual and has not been checked against a capture. The 32 CRC
bits follow the message, MSB first.
"""
from __future__ import annotations

from functools import cache

import numpy as np

from sdrcast.config import require_one_of
from sdrcast.errors import ConfigError
from sdrcast.phy.crc import Crc
from sdrcast.phy.fec.ldpc import ATSC3_RATES
from sdrcast.phy.kernels.bits import int_to_bits
from sdrcast.phy.kernels.crc import crc_bits
from sdrcast.phy.tables import load_json

ATSC3_CRC32 = Crc(32, 0x00210801, 0xFFFFFFFF)


class CrcCode:
    """Append / check a CRC over ``k`` message bits (``n = k + width``)."""

    def __init__(self, crc: Crc, k: int, name: str = ""):
        self.crc, self.k, self.n, self.name = crc, k, k + crc.width, name or f"CRC-{crc.width}"

    @staticmethod
    @cache
    def atsc3(n: int, rate: str) -> CrcCode:
        """CRC-32 outer code for LDPC length ``n`` and ``rate``: k = K_ldpc - 32."""
        require_one_of("n", n, (16200, 64800))
        require_one_of("rate", rate, ATSC3_RATES)
        k_ldpc = int(load_json("atsc3", "ldpc_address_tables.json")["codes"][str(n)][rate]["K_ldpc"])
        return CrcCode(ATSC3_CRC32, k_ldpc - 32, f"ATSC3 CRC-32 {n} {rate}")

    def _batch(self, x, length, what):
        x = np.asarray(x)
        if x.ndim not in (1, 2) or x.shape[-1] != length:
            raise ConfigError(f"{self.name}: {what} must have shape (batch, {length}) or "
                              f"({length},), not {x.shape}")
        return np.ascontiguousarray(np.atleast_2d(x), np.uint8)

    def _crc(self, bits: np.ndarray) -> int:
        c = self.crc
        return crc_bits(bits, c.width, c.poly, c.init) ^ c.xorout

    def encode(self, bits: np.ndarray) -> np.ndarray:
        single = np.ndim(bits) == 1
        x = self._batch(bits, self.k, "message")
        out = np.concatenate([x, np.array([int_to_bits(self._crc(r), self.crc.width) for r in x])],
                             axis=1)
        return out[0] if single else out

    def decode(self, bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Codewords -> (message bits, True where the CRC matches)."""
        single = np.ndim(bits) == 1
        x = self._batch(bits, self.n, "codeword")
        ok = np.array([np.array_equal(int_to_bits(self._crc(r[:self.k]), self.crc.width),
                                      r[self.k:]) for r in x])
        return (x[0, :self.k], ok[0]) if single else (x[:, :self.k], ok)
