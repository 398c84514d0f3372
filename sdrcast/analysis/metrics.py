"""Link measurements; every result is a plain dict or float (JSON-serialisable)."""
from __future__ import annotations

import numpy as np
import scipy.signal
import scipy.stats

from sdrcast.errors import ConfigError


def _same_shape(a: np.ndarray, b: np.ndarray, what: str) -> None:
    if a.shape != b.shape:
        raise ConfigError(f"{what}: shapes differ ({a.shape} vs {b.shape})")


def clopper_pearson(errors: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact binomial confidence interval of an error rate."""
    if trials == 0:
        return 0.0, 1.0
    a = 1 - confidence
    lo = 0.0 if errors == 0 else float(scipy.stats.beta.ppf(a / 2, errors, trials - errors + 1))
    hi = 1.0 if errors == trials else float(scipy.stats.beta.ppf(1 - a / 2, errors + 1, trials - errors))
    return lo, hi


def bit_errors(tx_bits: np.ndarray, rx_bits: np.ndarray) -> dict:
    """BER with its 95 % interval: ``{"errors", "bits", "ber", "ci95"}``."""
    tx_bits, rx_bits = np.asarray(tx_bits), np.asarray(rx_bits)
    _same_shape(tx_bits, rx_bits, "bit_errors")
    e = int(np.count_nonzero(tx_bits != rx_bits))
    n = int(tx_bits.size)
    return {"errors": e, "bits": n, "ber": e / n if n else 0.0, "ci95": clopper_pearson(e, n)}


def frame_errors(tx_frames: np.ndarray, rx_frames: np.ndarray) -> dict:
    """FER over rows of ``[n_frames, frame_len]``: ``{"errors", "frames", "fer", "ci95"}``."""
    tx_frames, rx_frames = np.atleast_2d(tx_frames), np.atleast_2d(rx_frames)
    _same_shape(tx_frames, rx_frames, "frame_errors")
    e = int(np.count_nonzero(np.any(tx_frames != rx_frames, axis=1)))
    n = tx_frames.shape[0]
    return {"errors": e, "frames": n, "fer": e / n if n else 0.0, "ci95": clopper_pearson(e, n)}


def mer_db(received: np.ndarray, ideal: np.ndarray) -> float:
    """Modulation error ratio (dB): ideal-point power over error power (ETSI TR 101 290 style)."""
    _same_shape(np.asarray(received), np.asarray(ideal), "mer_db")
    err = np.mean(np.abs(received - ideal) ** 2)
    return float(10 * np.log10(np.mean(np.abs(ideal) ** 2) / max(err, 1e-30)))


def evm_percent(received: np.ndarray, ideal: np.ndarray) -> float:
    """RMS error vector magnitude in % of the RMS ideal amplitude."""
    _same_shape(np.asarray(received), np.asarray(ideal), "evm_percent")
    err = np.mean(np.abs(received - ideal) ** 2)
    return float(100 * np.sqrt(err / np.mean(np.abs(ideal) ** 2)))


def welch_psd(x: np.ndarray, sample_rate: float, nfft: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided PSD (W/Hz) with frequencies centred on 0 Hz."""
    nfft = min(nfft, max(16, x.size))
    f, p = scipy.signal.welch(x, fs=sample_rate, nperseg=nfft, return_onesided=False,
                              detrend=False, scaling="density")
    return np.fft.fftshift(f), np.fft.fftshift(p)


def occupied_bandwidth(x: np.ndarray, sample_rate: float, fraction: float = 0.99,
                       nfft: int = 4096) -> dict:
    """Band holding ``fraction`` of the power (equal tails cut): ``{"bandwidth_hz","low_hz","high_hz"}``."""
    f, p = welch_psd(x, sample_rate, nfft)
    c = np.cumsum(p) / np.sum(p)
    tail = (1 - fraction) / 2
    lo, hi = f[np.searchsorted(c, tail)], f[min(np.searchsorted(c, 1 - tail), f.size - 1)]
    return {"bandwidth_hz": float(hi - lo), "low_hz": float(lo), "high_hz": float(hi),
            "fraction": fraction}
