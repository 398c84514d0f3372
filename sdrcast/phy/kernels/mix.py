"""Frequency shifting (mixing) of complex baseband."""
import math

import numpy as np
from numba import njit

_EXACT_EVERY = 1024  # samples between exact phasor recomputations (bounds rounding drift)


@njit(cache=True, nogil=True)
def mix(x, cycles0, cycles_per_sample):
    """``x[n] * exp(2j pi (cycles0 + n cycles_per_sample))`` as complex64, by phasor recursion
    with the phase recomputed exactly (in float64, modulo 1) every 1024 samples."""
    n = x.size
    y = np.empty(n, np.complex64)
    step = np.complex128(math.cos(2 * math.pi * cycles_per_sample)
                         + 1j * math.sin(2 * math.pi * cycles_per_sample))
    for a in range(0, n, _EXACT_EVERY):
        ph = (cycles0 + a * cycles_per_sample) % 1.0
        p = np.complex128(math.cos(2 * math.pi * ph) + 1j * math.sin(2 * math.pi * ph))
        for i in range(a, min(a + _EXACT_EVERY, n)):
            y[i] = x[i] * p
            p *= step
    return y
