"""Blind and data-aided estimators: SNR, carrier frequency offset, tone frequency, clock offset,
adjacent-channel leakage. Every result is a float or a dict of floats."""
from __future__ import annotations

import numpy as np

from sdrcast.analysis.metrics import welch_psd
from sdrcast.errors import ConfigError


def snr_m2m4_db(x: np.ndarray, kurtosis: float = 1.0) -> float:
    """Blind Es/N0 (dB) from the 2nd and 4th moments (M2M4) in complex AWGN. ``kurtosis`` is
    E|s|^4 / (E|s|^2)^2 of the signal: 1 for PSK, 1.32 for 16QAM, 1.381 for 64QAM.

    With M2 = S + N and M4 = k S^2 + 4 S N + 2 N^2: S = sqrt((2 M2^2 - M4) / (2 - k)).
    """
    if kurtosis >= 2:
        raise ConfigError(f"kurtosis={kurtosis}: M2M4 needs a signal less Gaussian than noise (< 2)")
    m2 = float(np.mean(np.abs(x) ** 2))
    m4 = float(np.mean(np.abs(x) ** 4))
    sig = np.sqrt(max((2 * m2**2 - m4) / (2 - kurtosis), 0.0))
    return float(10 * np.log10(max(sig, 1e-30) / max(m2 - sig, 1e-30)))


def snr_data_aided_db(received: np.ndarray, reference: np.ndarray) -> float:
    """Es/N0 (dB) of ``received`` against the known ``reference`` (after a best complex gain)."""
    r = np.asarray(reference)
    g = np.vdot(r, received) / np.vdot(r, r)
    err = received - g * r
    return float(10 * np.log10(np.abs(g) ** 2 * np.mean(np.abs(r) ** 2) / np.mean(np.abs(err) ** 2)))


def cfo_from_repetition(x: np.ndarray, period: int, sample_rate: float) -> float:
    """CFO (Hz) of a signal that repeats every ``period`` samples (CP, preamble halves...):
    ``angle(sum x[n+P] conj(x[n])) fs / (2 pi P)``; unambiguous within +-fs/(2P)."""
    if period < 1 or period >= len(x):
        raise ConfigError(f"period={period} must be in 1..{len(x) - 1}")
    c = np.vdot(x[:-period], x[period:])
    return float(np.angle(c) * sample_rate / (2 * np.pi * period))


def tone_frequency(x: np.ndarray, sample_rate: float) -> float:
    """Frequency (Hz) of the strongest tone: windowed FFT peak refined by parabolic interpolation
    of the log magnitude."""
    n = len(x)
    spec = np.abs(np.fft.fft(x * np.hanning(n)))
    k = int(np.argmax(spec))
    a, b, c = (np.log(spec[i % n] + 1e-30) for i in (k - 1, k, k + 1))
    delta = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
    f = (k + delta) / n
    return float((f - 1 if f >= 0.5 else f) * sample_rate)


def clock_offset_ppm(x: np.ndarray, sample_rate: float, tone_hz: float) -> float:
    """Sample-clock offset (ppm) seen on a received tone sent at ``tone_hz``: a receiver clock
    faster by e shows the tone at ``tone_hz / (1 + e)``."""
    return float((tone_hz / tone_frequency(x, sample_rate) - 1) * 1e6)


def aclr_db(x: np.ndarray, sample_rate: float, channel_bw: float, spacing: float | None = None,
            nfft: int = 8192) -> dict:
    """Adjacent-channel leakage: power in the channel (``channel_bw`` centred at 0 Hz) over the
    power in each neighbour of the same width ``spacing`` away (default ``channel_bw``).
    Returns ``{"lower_db", "upper_db"}`` (positive = leakage below the carrier)."""
    spacing = spacing or channel_bw
    if spacing + channel_bw / 2 > sample_rate / 2:
        raise ConfigError("the adjacent channels do not fit in the sampled band")
    f, p = welch_psd(x, sample_rate, nfft)

    def band(lo, hi):
        return p[(f >= lo) & (f < hi)].sum()

    main = band(-channel_bw / 2, channel_bw / 2)
    lower = band(-spacing - channel_bw / 2, -spacing + channel_bw / 2)
    upper = band(spacing - channel_bw / 2, spacing + channel_bw / 2)
    return {"lower_db": float(10 * np.log10(main / max(lower, 1e-300))),
            "upper_db": float(10 * np.log10(main / max(upper, 1e-300)))}
