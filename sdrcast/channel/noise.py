"""Seeded random streams addressed by absolute sample index (so chunking never changes them)."""
from __future__ import annotations

import numpy as np

BLOCK = 4096


def gaussian(seed: int, start: int, n: int, stream: int = 0) -> np.ndarray:
    """Complex unit-variance Gaussian samples ``start .. start + n - 1`` of stream ``stream``."""
    if n <= 0:
        return np.zeros(0, np.complex64)
    b0, b1 = start // BLOCK, (start + n - 1) // BLOCK
    parts = []
    for b in range(b0, b1 + 1):
        g = np.random.default_rng([seed, stream, b])
        parts.append(g.standard_normal((BLOCK, 2), dtype=np.float32).view(np.complex64)[:, 0]
                     * np.float32(np.sqrt(0.5)))
    full = np.concatenate(parts) if len(parts) > 1 else parts[0]
    off = start - b0 * BLOCK
    return full[off:off + n]


def poisson_points(seed: int, stream: int, block: int, mean: float) -> np.ndarray:
    """Event positions (sorted, absolute samples) of a Poisson process with ``mean`` events per
    ``BLOCK`` samples, inside block number ``block``."""
    g = np.random.default_rng([seed, stream, block])
    return np.sort(block * BLOCK + g.integers(0, BLOCK, g.poisson(mean)))
