"""Constellation mapping from a point table and soft demapping to LLRs.

A constellation is ``points[M]`` (complex) indexed by its MSB-first bit label. LLRs follow the
project convention ``L = ln P(b=0)/P(b=1)``: positive means bit 0.
"""
import numpy as np
from numba import njit

from sdrcast.phy.kernels.bits import bits_to_symbols


@njit(cache=True, nogil=True)
def map_bits(bits, points, bits_per_symbol):
    """Bits (MSB-first label per symbol) -> complex64 symbols. ``bits.size`` must divide evenly."""
    labels = bits_to_symbols(bits, bits_per_symbol)
    out = np.empty(labels.size, np.complex64)
    for i in range(labels.size):
        out[i] = points[labels[i]]
    return out


@njit(cache=True, nogil=True)
def _maxlog_bit(d, shift):
    """min over labels with bit ``shift`` = 1 minus min over those with it = 0."""
    m0 = np.inf
    m1 = np.inf
    for s in range(d.size):
        if (s >> shift) & 1:
            if d[s] < m1:
                m1 = d[s]
        elif d[s] < m0:
            m0 = d[s]
    return m1 - m0


@njit(cache=True, nogil=True)
def demap_maxlog(symbols, points, bits_per_symbol, noise_var):
    """Max-log LLRs: ``(min_{s:b=1} d^2 - min_{s:b=0} d^2) / noise_var`` per bit, float32.

    ``noise_var`` is the complex noise variance (E|n|^2) per symbol; a scalar or one value per
    symbol (for per-cell channel state information).
    """
    m = points.size
    n = symbols.size
    nv = np.empty(n, np.float64)
    nv[:] = noise_var
    out = np.empty(n * bits_per_symbol, np.float32)
    d2 = np.empty(m, np.float64)
    for i in range(n):
        y = symbols[i]
        for s in range(m):
            e = y - points[s]
            d2[s] = e.real * e.real + e.imag * e.imag
        for j in range(bits_per_symbol):
            out[i * bits_per_symbol + j] = _maxlog_bit(d2, bits_per_symbol - 1 - j) / nv[i]
    return out


@njit(cache=True, nogil=True)
def demap_logmap(symbols, points, bits_per_symbol, noise_var):
    """Exact log-MAP LLRs ``ln sum_{b=0} exp(-d^2/N0) - ln sum_{b=1} exp(-d^2/N0)``, float32."""
    m = points.size
    n = symbols.size
    nv = np.empty(n, np.float64)
    nv[:] = noise_var
    out = np.empty(n * bits_per_symbol, np.float32)
    metric = np.empty(m, np.float64)
    for i in range(n):
        y = symbols[i]
        best = -np.inf
        for s in range(m):
            e = y - points[s]
            metric[s] = -(e.real * e.real + e.imag * e.imag) / nv[i]
            if metric[s] > best:
                best = metric[s]
        for j in range(bits_per_symbol):
            shift = bits_per_symbol - 1 - j
            s0 = 0.0
            s1 = 0.0
            for s in range(m):
                w = np.exp(metric[s] - best)
                if (s >> shift) & 1:
                    s1 += w
                else:
                    s0 += w
            out[i * bits_per_symbol + j] = np.log(max(s0, 1e-300)) - np.log(max(s1, 1e-300))
    return out


@njit(cache=True, nogil=True)
def hard_decide(symbols, points):
    """Index of the nearest point for each symbol."""
    out = np.empty(symbols.size, np.int32)
    for i in range(symbols.size):
        best = np.inf
        k = 0
        for s in range(points.size):
            e = symbols[i] - points[s]
            d = e.real * e.real + e.imag * e.imag
            if d < best:
                best = d
                k = s
        out[i] = k
    return out


@njit(cache=True, nogil=True, fastmath=True)
def demap_maxlog_axes(symbols, levels_i, levels_q, noise_var):
    """Max-log LLRs for a separable square constellation, one axis at a time.

    The label is ``label_i + (label_q << k)`` with ``levels_i[label_i]`` the in-phase and
    ``levels_q[label_q]`` the quadrature level (k bits each); LLRs come out LSB first:
    bits 0..k-1 of ``label_i``, then of ``label_q``. Equal to the exhaustive 2-D max-log (the
    other axis's minimum cancels), at 2^k instead of 4^k distances per bit; each bit's two
    minima run over precomputed level lists, without branches.
    """
    n = symbols.size
    m = levels_i.size
    k = 0
    while (1 << k) < m:
        k += 1
    half = m // 2
    idx0 = np.empty((k, half), np.int64)  # levels whose label has bit b = 0, and = 1
    idx1 = np.empty((k, half), np.int64)
    for b in range(k):
        a0 = 0
        a1 = 0
        for s in range(m):
            if (s >> b) & 1:
                idx1[b, a1] = s
                a1 += 1
            else:
                idx0[b, a0] = s
                a0 += 1
    nv = np.empty(n, np.float64)
    nv[:] = noise_var
    out = np.empty(n * 2 * k, np.float32)
    d = np.empty(m, np.float64)
    for i in range(n):
        inv = 1.0 / nv[i]
        for axis in range(2):
            y = symbols[i].real if axis == 0 else symbols[i].imag
            lv = levels_i if axis == 0 else levels_q
            for v in range(m):
                e = y - lv[v]
                d[v] = e * e
            for b in range(k):
                m0 = d[idx0[b, 0]]
                m1 = d[idx1[b, 0]]
                for j in range(1, half):
                    m0 = min(m0, d[idx0[b, j]])
                    m1 = min(m1, d[idx1[b, j]])
                out[i * 2 * k + axis * k + b] = (m1 - m0) * inv
    return out


@njit(cache=True, nogil=True)
def demap_maxlog_quadrant(symbols, quarter, sub_labels, bit_r, bit_i, bits_per_symbol, noise_var):
    """Max-log LLRs for a constellation symmetric in its quadrants: label bit ``bit_r`` (MSB
    first) flips the sign of the real part, ``bit_i`` of the imaginary part. ``quarter``: the
    points with both sign bits 0; ``sub_labels``: their other label bits (MSB first, the sign
    bits removed). Equal to the exhaustive max-log at M/4 points per symbol."""
    n = symbols.size
    eta = bits_per_symbol
    nv = np.empty(n, np.float64)
    nv[:] = noise_var
    out = np.empty(n * eta, np.float32)
    m0 = np.empty(eta - 2, np.float64)
    m1 = np.empty(eta - 2, np.float64)
    for i in range(n):
        yr, yi = symbols[i].real, symbols[i].imag
        r0 = r1 = i0 = i1 = 1e300
        m0[:] = 1e300
        m1[:] = 1e300
        for q in range(quarter.size):
            a, b = quarter[q].real, quarter[q].imag
            dr_p, dr_m = (yr - a) ** 2, (yr + a) ** 2
            di_p, di_m = (yi - b) ** 2, (yi + b) ** 2
            fr, fi = min(dr_p, dr_m), min(di_p, di_m)
            r0, r1 = min(r0, dr_p + fi), min(r1, dr_m + fi)
            i0, i1 = min(i0, fr + di_p), min(i1, fr + di_m)
            d = fr + fi
            lab = sub_labels[q]
            for j in range(eta - 2):
                if (lab >> (eta - 3 - j)) & 1:
                    m1[j] = min(m1[j], d)
                else:
                    m0[j] = min(m0[j], d)
        j = 0
        for b in range(eta):
            if b == bit_r:
                v = r1 - r0
            elif b == bit_i:
                v = i1 - i0
            else:
                v = m1[j] - m0[j]
                j += 1
            out[i * eta + b] = v / nv[i]
    return out


@njit(cache=True, nogil=True)
def _nearest_level(x, levels):
    """(distance to the nearest of ``levels``, that level)."""
    best, level = np.inf, 0.0
    for v in range(levels.size):
        e = abs(x - levels[v])
        if e < best:
            best, level = e, levels[v]
    return best, level


@njit(cache=True, nogil=True)
def decision_error_axes(symbols, levels_i, levels_q, valid):
    """For a separable square constellation: (sum of |symbol - nearest point|^2, sum of
    |nearest point|^2) over the ``valid`` symbols, the nearest level taken per axis (MER)."""
    err = 0.0
    energy = 0.0
    for i in range(symbols.size):
        if valid[i]:
            di, li = _nearest_level(symbols[i].real, levels_i)
            dq, lq = _nearest_level(symbols[i].imag, levels_q)
            err += di * di + dq * dq
            energy += li * li + lq * lq
    return err, energy
