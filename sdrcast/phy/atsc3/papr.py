"""A/322 8.x PAPR reduction by tone reservation (TR): the reserved carriers of each symbol
(``frame_geometry.reserved_carriers``) carry no data, and the transmitter fills them with
whatever lowers the symbol's peaks; receivers ignore them. The standard fixes the carriers, not
the algorithm. Here: peak cancellation with the reserved set's kernel (its carriers at unit
amplitude, IFFT, normalised to 1 at its peak) — repeatedly, the largest sample above the clip
level is brought down to it by subtracting the kernel moved to that sample, while every reserved
carrier stays within ``max_tone`` of the data cells' RMS amplitude (Tellado's gradient method,
with the per-tone limit solved exactly).
"""
from __future__ import annotations

import numpy as np


def kernels(reserved: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Reserved FFT-bin sets -> (kernels [K, N], bins [K, M] padded with -1)."""
    m = max((b.size for b in reserved), default=0)
    out = np.zeros((len(reserved), n), np.complex64)
    pad = np.full((len(reserved), max(m, 1)), -1, np.int64)
    for k, b in enumerate(reserved):
        grid = np.zeros(n, np.complex128)
        grid[b] = 1.0
        out[k] = np.fft.ifft(grid) * n / max(b.size, 1)
        pad[k, :b.size] = b
    return out, pad


def papr_db(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Peak-to-average power ratio (dB) along ``axis``."""
    p = np.abs(x) ** 2
    return 10 * np.log10(p.max(axis=axis) / p.mean(axis=axis))
