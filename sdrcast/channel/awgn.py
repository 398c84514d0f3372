"""Additive white Gaussian noise at a given Es/N0, seeded and chunk-invariant."""
from __future__ import annotations

import numpy as np

from sdrcast.channel.noise import gaussian
from sdrcast.config import require_range
from sdrcast.errors import ConfigError


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
    """Streaming AWGN. The noise power is set by ``snr_db`` (Es/N0 at the *nominal* signal
    power ``signal_power``, 1.0 by the TX convention: the emulator never measures the signal, so
    the SNR is exact and independent of the content), by ``cn_db`` with ``bandwidth`` (C/N in
    that bandwidth, for an input at ``signal_power`` sampled at ``sample_rate``), or directly as
    ``noise_power`` (a noise floor, e.g. for sensitivity tests; ``snr_db`` then unused). Noise
    for sample i depends only on the seed and i, so any chunking gives the same output."""

    def __init__(self, snr_db: float | None = None, seed: int = 0, signal_power: float = 1.0, *,
                 cn_db: float | None = None, bandwidth: float | None = None,
                 sample_rate: float | None = None, noise_power: float | None = None):
        require_range("signal_power", signal_power, 1e-30)
        given = [v is not None for v in (snr_db, cn_db, noise_power)]
        if sum(given) != 1:
            raise ConfigError("give exactly one of snr_db, cn_db (with bandwidth and sample_rate) "
                              "or noise_power")
        if cn_db is not None:
            if not bandwidth or not sample_rate:
                raise ConfigError("cn_db needs bandwidth and sample_rate (Hz)")
            # C/N in `bandwidth`: noise density N0 = C / (CN * B); total noise power N0 * fs
            noise_power = signal_power / 10 ** (cn_db / 10) * sample_rate / bandwidth
        elif snr_db is not None:
            noise_power = noise_variance(snr_db, signal_power)
        require_range("noise_power", noise_power, 0.0)
        self.seed, self.noise_power = seed, float(noise_power)
        self.sigma = np.float32(np.sqrt(noise_power))
        self.pos = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.complex64)
        y = x + gaussian(self.seed, self.pos, x.size) * self.sigma
        self.pos += x.size
        return y
