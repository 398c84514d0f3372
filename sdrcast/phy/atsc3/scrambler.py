"""A/322 5.2.3 baseband packet scrambling: every baseband packet (K_payload bits) is XORed with
the same sequence of G(x) = 1 + x + x^3 + x^6 + x^7 + x^11 + x^12 + x^13 + x^16, reloaded at
each packet. Generated as gr-atsc3 does (register 0x018F, byte-wise taps; ``ofdm_framing.json``
``baseband_scrambler``), which reproduces the standard's first bytes C0 6D 3F."""
from __future__ import annotations

from functools import cache

import numpy as np

from sdrcast.phy.kernels.prbs import lfsr_galois_right_states

_TAPS = np.array([2, 3, 4, 5, 9, 12, 13, 15])  # register bits -> output byte D7..D0


@cache
def sequence(n_bytes: int) -> np.ndarray:
    """The first ``n_bytes`` scrambling bytes (read-only)."""
    states = lfsr_galois_right_states(0xD31C, 0x018F, n_bytes)
    s = (((states[:, None] >> _TAPS) & 1) << np.arange(7, -1, -1)).sum(axis=1).astype(np.uint8)
    s.flags.writeable = False
    return s


def scramble(packets: np.ndarray) -> np.ndarray:
    """Baseband packets ``[n, bytes]`` (uint8) -> scrambled (self-inverse)."""
    packets = np.asarray(packets, np.uint8)
    return packets ^ sequence(packets.shape[-1])
