"""Synchronisation toolkit shared by the receivers: running sums in double precision,
repetition (cyclic prefix / cyclic extension) correlation for timing and fractional carrier
offset, normalised cross-correlation with a known waveform, and a proportional-integral
tracking loop. Ready for LTE's CP and PSS/SSS search (FeMBMS) as for the DTMB PN header and
the ATSC 3.0 bootstrap.
"""
from __future__ import annotations

import numpy as np
import scipy.fft


def moving_sum(x: np.ndarray, n: int) -> np.ndarray:
    """Sums of ``n`` consecutive values, ``len(x) - n + 1`` of them, accumulated in double
    precision (float32 running sums over a frame lose the small windows)."""
    x = np.asarray(x)
    c = np.concatenate([[0], np.cumsum(x.astype(np.complex128 if np.iscomplexobj(x) else np.float64))])
    return c[n:] - c[:-n]


def repetition_correlation(x: np.ndarray, lag: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """``p[n] = sum_{k<width} x[n+k] conj(x[n+k+lag])`` and its normalised magnitude
    ``|p| / sqrt(E(n) E(n+lag))`` (1 on a perfect repetition ``lag`` samples later, small on
    noise). The phase of ``p`` at a repetition is ``-2 pi cfo lag / fs``
    (``cfo_from_phase``)."""
    x = np.asarray(x)
    p = moving_sum(x[:-lag].astype(np.complex128) * np.conj(x[lag:]), width)
    e = moving_sum(np.abs(x.astype(np.complex128)) ** 2, width)
    norm = np.abs(p) / np.sqrt(np.maximum(e[:p.size] * e[lag:lag + p.size], 1e-24))
    return p, norm


def cfo_from_phase(phase: float, lag: int, sample_rate: float) -> float:
    """The carrier offset (Hz) a repetition ``lag`` samples apart turns by ``phase``
    (modulo ``sample_rate / lag``)."""
    return -phase * sample_rate / (2 * np.pi * lag)


def normalised_xcorr(y: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|correlation of ``y`` with the known ``ref``| at each of ``len(y) - len(ref) + 1``
    offsets, over sqrt(window energy x ref energy): 1 where ``y`` is ``ref`` scaled."""
    return normalised_xcorr_shifted(y, [ref], [0], 1)[0, 0]


def normalised_xcorr_shifted(y: np.ndarray, refs, shifts, period: int) -> np.ndarray:
    """``normalised_xcorr`` of ``y`` turned by each of ``shifts`` (y[n] exp(-2j pi s n /
    period)) with each of ``refs`` (same length): ``[len(shifts), len(refs), offsets]``. One
    transform of ``y`` for all: with the transform length a multiple of ``period``, turning
    ``y`` is rolling its spectrum (a carrier-offset search on a grid of 1/period)."""
    y = np.asarray(y, np.complex128)
    refs = np.asarray(refs, np.complex128)
    m = refs.shape[1]
    n_out = y.size - m + 1
    nfft = -(-(y.size + m - 1) // period) * period
    while scipy.fft.next_fast_len(nfft) != nfft:  # a fast length that is a multiple of period
        nfft = -(-scipy.fft.next_fast_len(nfft) // period) * period
    spectrum = scipy.fft.fft(y, nfft)
    kernels = scipy.fft.fft(np.conj(refs[:, ::-1]), nfft, axis=1)
    scale = np.sqrt(np.maximum(moving_sum(np.abs(y) ** 2, m)[None, :]
                               * np.sum(np.abs(refs) ** 2, axis=1)[:, None], 1e-24))
    out = np.empty((len(shifts), len(refs), n_out))
    for i, s in enumerate(shifts):
        corr = scipy.fft.ifft(np.roll(spectrum, -int(s) * nfft // period)[None, :] * kernels, axis=1)
        out[i] = np.abs(corr[:, m - 1:m - 1 + n_out]) / scale
    return out


class PiLoop:
    """Proportional-integral tracking loop: ``update(error)`` returns the correction for the
    next step (``kp`` error + the integral, which follows a constant drift such as a
    sample-clock offset). ``rate`` is the integral part (the drift per step)."""

    def __init__(self, kp: float, ki: float):
        self.kp, self.ki, self.rate = kp, ki, 0.0

    def update(self, error: float) -> float:
        self.rate += self.ki * error
        return self.kp * error + self.rate
