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


_BLOCK = 256  # symbols demapped together (vector lanes run across them)


@njit(cache=True, nogil=True, fastmath=True)
def demap_maxlog_quadrant(symbols, quarter, sub_labels, bit_r, bit_i, bits_per_symbol, noise_var):
    """Max-log LLRs for a constellation symmetric in its quadrants: label bit ``bit_r`` (MSB
    first) flips the sign of the real part, ``bit_i`` of the imaginary part. ``quarter``: the
    points with both sign bits 0; ``sub_labels``: their other label bits (MSB first, the sign
    bits removed). Equal to the exhaustive max-log at M/4 points per symbol. Blocks of
    ``_BLOCK`` symbols go through each point together: the inner loops run across symbols,
    with no branch (which minimum a point updates depends on its label only), in float32
    vector lanes."""
    n = symbols.size
    eta = bits_per_symbol
    nb = eta - 2
    nv = np.empty(n, np.float32)
    nv[:] = noise_var
    out = np.empty(n * eta, np.float32)
    # one workspace, rows at constant offsets (LLVM then sees no aliasing and vectorises):
    # the symbols' real and imaginary parts, this point's distance, the minima with the real
    # sign bit 0 / 1 and the imaginary sign bit 0 / 1, then per other bit j rows 2j + bit
    B = np.uint64(_BLOCK)
    w = np.empty((7 + 2 * nb) * _BLOCK, np.float32)
    h = np.float32(0.5)
    for start in range(0, n, _BLOCK):
        cnt = min(_BLOCK, n - start)
        w[:2 * _BLOCK] = 0  # the last block's tail: computed, not written out
        for t in range(cnt):
            w[t] = symbols[start + t].real
            w[_BLOCK + t] = symbols[start + t].imag
        seen = np.zeros(2 * nb, np.bool_)  # a bit value's minimum holds a point yet
        # Every row _BLOCK long and the trip count constant, so LLVM proves the rows apart;
        # a running minimum as (x + y - |x - y|) / 2, not min(): min() became a masked store
        # (vmaskmovps, microcoded on AMD) three times slower. Its rounding error is an ulp
        # of the larger distance. The sign-bit minima start from the first point's
        # distances, the other bits' minima from each bit value's first point.
        for q in range(quarter.size):
            a = np.float32(quarter[q].real)
            b = np.float32(quarter[q].imag)
            first = q == 0
            for t in range(B):
                yr = w[t]
                yi = w[B + t]
                dr_p = (yr - a) * (yr - a)
                dr_m = (yr + a) * (yr + a)
                di_p = (yi - b) * (yi - b)
                di_m = (yi + b) * (yi + b)
                fr = min(dr_p, dr_m)
                fi = min(di_p, di_m)
                d0 = dr_p + fi
                d1 = dr_m + fi
                d2 = fr + di_p
                d3 = fr + di_m
                if not first:
                    x = w[np.uint64(3) * B + t]
                    d0 = h * (x + d0 - abs(x - d0))
                    x = w[np.uint64(4) * B + t]
                    d1 = h * (x + d1 - abs(x - d1))
                    x = w[np.uint64(5) * B + t]
                    d2 = h * (x + d2 - abs(x - d2))
                    x = w[np.uint64(6) * B + t]
                    d3 = h * (x + d3 - abs(x - d3))
                w[np.uint64(3) * B + t] = d0
                w[np.uint64(4) * B + t] = d1
                w[np.uint64(5) * B + t] = d2
                w[np.uint64(6) * B + t] = d3
                w[np.uint64(2) * B + t] = fr + fi
            lab = sub_labels[q]
            for j in range(nb):
                k = 2 * j + ((lab >> (nb - 1 - j)) & 1)
                row = np.uint64((7 + k) * _BLOCK)
                if not seen[k]:
                    seen[k] = True
                    for t in range(B):
                        w[row + t] = w[np.uint64(2) * B + t]
                else:
                    for t in range(B):
                        x = w[row + t]
                        y = w[np.uint64(2) * B + t]
                        w[row + t] = h * (x + y - abs(x - y))
        for t in range(cnt):
            inv = np.float32(1.0) / nv[start + t]
            o = (start + t) * eta
            j = 0
            for bit in range(eta):
                if bit == bit_r:
                    v = w[4 * _BLOCK + t] - w[3 * _BLOCK + t]
                elif bit == bit_i:
                    v = w[6 * _BLOCK + t] - w[5 * _BLOCK + t]
                else:
                    v = w[(8 + 2 * j) * _BLOCK + t] - w[(7 + 2 * j) * _BLOCK + t]
                    j += 1
                out[o + bit] = v * inv
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
