"""PAPR reduction kernels: tone reservation by peak cancellation with a per-tone limit."""
import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
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
