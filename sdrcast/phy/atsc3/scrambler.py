"""A/322 5.2.3 baseband packet scrambling: every baseband packet (K_payload bits) is XORed with
the same sequence of G(x) = 1 + x + x^3 + x^6 + x^7 + x^11 + x^12 + x^13 + x^16, reloaded at
each packet. Generated as gr-atsc3 does (register 0x018F, byte-wise taps; ``ofdm_framing.json``
``baseband_scrambler``), which reproduces the standard's first bytes C0 6D 3F."""
from __future__ import annotations

from functools import cache

import numba
import numpy as np

_TAPS = (2, 3, 4, 5, 9, 12, 13, 15)  # register bits -> output byte D7..D0


@numba.njit(cache=True, nogil=True)
def _sequence(n_bytes):
    out = np.empty(n_bytes, np.uint8)
    sr = 0x018F
    for i in range(n_bytes):
        b = 0
        for k in range(8):
            b = (b << 1) | ((sr >> _TAPS[k]) & 1)
        out[i] = b
        low = sr & 1
        sr >>= 1
        if low:
            sr ^= 0xD31C
    return out


@cache
def sequence(n_bytes: int) -> np.ndarray:
    """The first ``n_bytes`` scrambling bytes (read-only)."""
    s = _sequence(n_bytes)
    s.flags.writeable = False
    return s


def scramble(packets: np.ndarray) -> np.ndarray:
    """Baseband packets ``[n, bytes]`` (uint8) -> scrambled (self-inverse)."""
    packets = np.asarray(packets, np.uint8)
    return packets ^ sequence(packets.shape[-1])
