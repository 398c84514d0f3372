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


@njit(cache=True, nogil=True, fastmath=True)
def apply_taps(h_l, w, start):
    """Every row's channel at every carrier from its lattice values ``h_l[rows, M]``: carrier k
    takes ``sum_i w[k, i] h_l[row, start[k] + i]``. Real and imaginary parts apart and unsigned
    indices: the sum over the taps then vectorises."""
    rows, m = h_l.shape
    n, taps = w.shape
    out = np.empty((rows, n), np.complex64)
    wr = np.empty((n, taps), np.float32)
    wi = np.empty((n, taps), np.float32)
    for k in range(n):
        for i in range(taps):
            wr[k, i] = w[k, i].real
            wi[k, i] = w[k, i].imag
    hr = np.empty(m, np.float32)
    hi = np.empty(m, np.float32)
    for r in range(rows):
        for j in range(m):
            hr[j] = h_l[r, j].real
            hi[j] = h_l[r, j].imag
        for k in range(n):
            ar = np.float32(0)
            ai = np.float32(0)
            s = np.uint64(start[k])
            wrk, wik = wr[k], wi[k]
            for i in range(np.uint64(taps)):
                ar += wrk[i] * hr[s + i] - wik[i] * hi[s + i]
                ai += wrk[i] * hi[s + i] + wik[i] * hr[s + i]
            out[r, k] = complex(ar, ai)
    return out


@njit(cache=True, nogil=True)
def pilot_estimates(grid, amp):
    """Received ``grid[n_sym, K]`` and pilots sent ``amp`` (0 off the pilots) -> (``h`` the raw
    channel at each pilot, 0 elsewhere; ``w`` its noise variance at unit noise, 1 / |pilot|^2,
    0 elsewhere; ``turn[n_sym - 1]`` the sum of h[j + 1] conj(h[j]) over the carriers with a
    pilot in both symbols, whose angle is the phase common to the carriers that moved)."""
    n_sym, n_k = grid.shape
    h = np.zeros((n_sym, n_k), np.complex64)
    w = np.zeros((n_sym, n_k), np.float32)
    turn = np.zeros(max(n_sym - 1, 0), np.complex128)
    for j in range(n_sym):
        for k in range(n_k):
            a = amp[j, k]
            p = a.real * a.real + a.imag * a.imag
            if p > 0:
                h[j, k] = grid[j, k] * np.conj(a) / p
                w[j, k] = 1 / max(p, 1e-12)
                if j and w[j - 1, k] > 0:
                    turn[j - 1] += h[j, k] * np.conj(h[j - 1, k])
    return h, w, turn


@njit(cache=True, nogil=True)
def noise_across_carriers(h, w):
    """Noise variance from each pilot's distance to the mean of its two neighbours in the same
    symbol (the fallback when pilots never repeat on a carrier: one-symbol grids), and how
    many pilots gave it."""
    n_sym, n_k = h.shape
    total, count = 0.0, 0
    for j in range(n_sym):
        a, b = -1, -1  # the two pilots before
        for k in range(n_k):
            if w[j, k] > 0:
                if a >= 0:
                    d = h[j, b] - (h[j, a] + h[j, k]) / 2
                    total += (d.real * d.real + d.imag * d.imag) / (w[j, b] + (w[j, a] + w[j, k]) / 4)
                    count += 1
                a, b = b, k
    return total / max(count, 1), count


@njit(cache=True, nogil=True)
def divide_out(grid, est, nv):
    """Equalised grid (the received one where the estimate is below 1e-6 in amplitude) and the
    noise variance of each cell, ``nv / max(|est|^2, 1e-12)``."""
    n_sym, n_k = grid.shape
    eq = np.empty((n_sym, n_k), np.complex64)
    var = np.empty((n_sym, n_k), np.float32)
    for j in range(n_sym):
        for k in range(n_k):
            e = est[j, k]
            g = e.real * e.real + e.imag * e.imag
            if g > 1e-12:
                eq[j, k] = grid[j, k] * np.conj(e) / g
                var[j, k] = nv / g
            else:
                eq[j, k] = grid[j, k]
                var[j, k] = nv / 1e-12
    return eq, var
