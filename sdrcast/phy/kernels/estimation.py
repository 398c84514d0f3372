"""Channel estimation on an OFDM grid: interpolation across symbols, carrier by carrier.

Scattered pilots visit each pilot carrier once every few symbols (ATSC 3.0's Dy, LTE's MBSFN
reference signals); joining those visits in time gives every symbol pilots as dense as the
pattern's Dx, which is what sets the longest echo the estimate can follow (N / Dx samples)."""
import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def interpolate_in_time(h, w, max_gap):
    """Raw pilot estimates ``h[n_sym, K]`` (complex, valid where ``w > 0``; ``w`` the raw
    estimate's noise variance at unit noise, 1 / |pilot|^2) -> (``ht[n_sym, K]`` linear in
    time between a carrier's pilots at most ``max_gap`` symbols apart, held at most
    ``max_gap`` symbols past the first and last; ``valid[n_sym, K]``; the noise variance
    measured from each pilot's distance to the line through its neighbours in time (0 if no
    carrier has three pilots that close), and how many pilots gave it)."""
    n_sym, n_k = h.shape
    ht = np.zeros((n_sym, n_k), np.complex64)
    valid = np.zeros((n_sym, n_k), np.bool_)
    js = np.empty(n_sym, np.int64)
    noise, count = 0.0, 0
    for k in range(n_k):
        m = 0
        for j in range(n_sym):
            if w[j, k] > 0:
                js[m] = j
                m += 1
                ht[j, k] = h[j, k]
                valid[j, k] = True
        if m == 0:
            continue
        for j in range(max(0, js[0] - max_gap), js[0] + 1):
            ht[j, k] = h[js[0], k]
            valid[j, k] = True
        for j in range(js[m - 1], min(n_sym, js[m - 1] + max_gap + 1)):
            ht[j, k] = h[js[m - 1], k]
            valid[j, k] = True
        for i in range(m - 1):
            a, b = js[i], js[i + 1]
            if b - a > max_gap:
                continue
            for j in range(a, b + 1):
                t = (j - a) / (b - a)
                ht[j, k] = (1 - t) * h[a, k] + t * h[b, k]
                valid[j, k] = True
            if i + 2 < m and js[i + 2] - b <= max_gap:
                c = js[i + 2]
                p, q = (c - b) / (c - a), (b - a) / (c - a)  # weights of a and c at b
                d = h[b, k] - p * h[a, k] - q * h[c, k]
                noise += (d.real * d.real + d.imag * d.imag) / (w[b, k] + p * p * w[a, k]
                                                                 + q * q * w[c, k])
                count += 1
    return ht, valid, noise / max(count, 1), count


@njit(cache=True, nogil=True)
def apply_taps(h_l, w, start):
    """Every row's channel at every carrier from its lattice values ``h_l[rows, M]``: carrier k
    takes ``sum_i w[k, i] h_l[row, start[k] + i]``."""
    rows = h_l.shape[0]
    n, taps = w.shape
    out = np.empty((rows, n), np.complex64)
    for r in range(rows):
        for k in range(n):
            acc = np.complex64(0)
            s = start[k]
            for i in range(taps):
                acc += w[k, i] * h_l[r, s + i]
            out[r, k] = acc
    return out
