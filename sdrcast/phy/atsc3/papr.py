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

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def tone_reservation(x: np.ndarray, kernels: np.ndarray, bins: np.ndarray, kidx: np.ndarray,
                     clip: np.ndarray, a_max: np.ndarray, iterations: int) -> np.ndarray:
    """Peak-cancel OFDM symbols in place and return the iterations used per symbol.

    ``x`` [S, N] complex64 useful parts; ``kernels`` [K, N] complex64 (kernel k: mean over its
    reserved bins of exp(j 2 pi b n / N)); ``bins`` [K, M] reserved FFT bins of kernel k (-1
    pads); ``kidx`` [S] kernel of each symbol (-1: no TR); ``clip`` [S] target peak magnitude;
    ``a_max`` [S] limit on each reserved carrier's accumulated weight (kernel units)."""
    s_count, n = x.shape
    used = np.zeros(s_count, np.int32)
    for s in range(s_count):
        k = kidx[s]
        if k < 0:
            continue
        nb = 0
        while nb < bins.shape[1] and bins[k, nb] >= 0:
            nb += 1
        row = x[s]
        r = np.zeros(nb, np.complex128)
        best, m = 0.0, 0
        for i in range(n):
            p = row[i].real * row[i].real + row[i].imag * row[i].imag
            if p > best:
                best, m = p, i
        for it in range(iterations):
            y = np.sqrt(best)
            if y <= clip[s]:
                break
            u = row[m] / y
            alpha = y - clip[s]
            for i in range(nb):  # largest step keeping |r_i - alpha v_i| <= a_max
                v = u * np.exp(-2j * np.pi * bins[k, i] * m / n)
                rv = r[i] * np.conj(v)
                disc = a_max[s] * a_max[s] - rv.imag * rv.imag
                lim = rv.real + np.sqrt(disc) if disc > 0 else 0.0
                alpha = min(alpha, lim)
            if alpha <= 0:
                break
            for i in range(nb):
                r[i] -= alpha * u * np.exp(-2j * np.pi * bins[k, i] * m / n)
            step = np.complex64(alpha * u)
            best, m0 = 0.0, m
            for i in range(n):  # subtract the kernel moved to m0 and find the next peak
                j = i - m0 if i >= m0 else i - m0 + n
                row[i] -= step * kernels[k, j]
                p = row[i].real * row[i].real + row[i].imag * row[i].imag
                if p > best:
                    best, m = p, i
            used[s] = it + 1
    return used


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
