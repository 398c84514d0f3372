"""Additive white Gaussian noise at a given Es/N0, seeded and chunk-invariant."""
from __future__ import annotations

import numpy as np

from sdrcast.config import require_range


def noise_variance(snr_db: float, signal_power: float = 1.0) -> float:
    """Complex noise variance N0 for ``Es/N0 = snr_db`` at ``signal_power``."""
    return signal_power / 10 ** (snr_db / 10)


def add_awgn(x: np.ndarray, snr_db: float, rng: np.random.Generator | int | None = None,
             signal_power: float | None = None) -> np.ndarray:
    """``x`` plus complex Gaussian noise at Es/N0 ``snr_db``.

    ``signal_power`` is the nominal power the SNR refers to; ``None`` measures it from ``x``
    (mean |x|^2 over the whole array).
    """
    rng = np.random.default_rng(rng)
    p = float(np.mean(np.abs(x) ** 2)) if signal_power is None else signal_power
    n0 = noise_variance(snr_db, p)
    noise = rng.standard_normal((x.size, 2), dtype=np.float32).view(np.complex64)[:, 0]
    return (x + noise.reshape(x.shape) * np.float32(np.sqrt(n0 / 2))).astype(np.complex64)


class Awgn:
    """Streaming AWGN at a nominal signal power (default 1.0, the TX convention): noise for
    sample i depends only on the seed and i, so any chunking gives the same output."""

    block_len = 4096

    def __init__(self, snr_db: float, seed: int = 0, signal_power: float = 1.0):
        require_range("signal_power", signal_power, 1e-30)
        self.snr_db, self.seed, self.signal_power = snr_db, seed, signal_power
        self.sigma = np.float32(np.sqrt(noise_variance(snr_db, signal_power) / 2))
        self.pos = 0

    def _noise(self, start: int, n: int) -> np.ndarray:
        """Noise samples start..start+n, generated in fixed blocks keyed by (seed, block)."""
        b0, b1 = start // self.block_len, (start + n - 1) // self.block_len
        parts = [np.random.default_rng([self.seed, b]).standard_normal(
            (self.block_len, 2), dtype=np.float32).view(np.complex64)[:, 0] for b in range(b0, b1 + 1)]
        full = np.concatenate(parts) if len(parts) > 1 else parts[0]
        off = start - b0 * self.block_len
        return full[off:off + n]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.complex64)
        if x.size == 0:
            return x.copy()
        y = x + self._noise(self.pos, x.size) * self.sigma
        self.pos += x.size
        return y
