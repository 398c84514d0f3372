"""The LTE turbo code (3GPP TS 36.212 5.1.3.2): two 8-state recursive systematic encoders,
G(D) = [1, (1 + D + D^3) / (1 + D^2 + D^3)], joined by a QPP interleaver and terminated with
three tail steps each; decoding by max-log-MAP with scaled extrinsic information.

State of an encoder: bit 0 = D, bit 1 = D^2, bit 2 = D^3. LLRs: positive = bit 0. Stream
layout is the standard's: ``d[3, K + 4]`` with the twelve tail bits spread as 5.1.3.2.2 says.
Filler bits (known zeros at the start of a block) are encoded as 0; marking them NULL for
rate matching is the caller's business.
"""
import numpy as np
from numba import njit

from sdrcast.phy.kernels.crc import crc_bits

NEG = np.float32(-1e30)


@njit(cache=True, nogil=True)
def _step(state, u):
    """(next state, parity bit) for input ``u``."""
    a = u ^ ((state >> 1) & 1) ^ ((state >> 2) & 1)
    z = a ^ (state & 1) ^ ((state >> 2) & 1)
    return ((state << 1) | a) & 7, z


@njit(cache=True, nogil=True)
def _constituent(c, out_z, tail_x, tail_z):
    state = 0
    for k in range(c.size):
        state, out_z[k] = _step(state, c[k])
    for t in range(3):  # termination: the input that makes the feedback 0
        u = ((state >> 1) & 1) ^ ((state >> 2) & 1)
        state, tail_z[t] = _step(state, u)
        tail_x[t] = u


@njit(cache=True, nogil=True)
def encode(c, perm):
    """Bits ``c[K]`` and the QPP permutation (c'_i = c_perm[i]) -> ``d[3, K + 4]``."""
    n = c.size
    d = np.zeros((3, n + 4), np.uint8)
    z1 = np.empty(n, np.uint8)
    z2 = np.empty(n, np.uint8)
    x1t = np.empty(3, np.uint8)
    z1t = np.empty(3, np.uint8)
    x2t = np.empty(3, np.uint8)
    z2t = np.empty(3, np.uint8)
    _constituent(c, z1, x1t, z1t)
    ci = np.empty(n, np.uint8)
    for i in range(n):
        ci[i] = c[perm[i]]
    _constituent(ci, z2, x2t, z2t)
    d[0, :n] = c
    d[1, :n] = z1
    d[2, :n] = z2
    d[0, n], d[1, n], d[2, n] = x1t[0], z1t[0], x1t[1]
    d[0, n + 1], d[1, n + 1], d[2, n + 1] = z1t[1], x1t[2], z1t[2]
    d[0, n + 2], d[1, n + 2], d[2, n + 2] = x2t[0], z2t[0], x2t[1]
    d[0, n + 3], d[1, n + 3], d[2, n + 3] = z2t[1], x2t[2], z2t[2]
    return d


@njit(cache=True, nogil=True)
def _trellis():
    nxt = np.empty((8, 2), np.int64)
    par = np.empty((8, 2), np.float32)  # +1 for parity bit 0, -1 for 1
    for s in range(8):
        for u in range(2):
            ns, z = _step(s, u)
            nxt[s, u] = ns
            par[s, u] = 1.0 - 2.0 * z
    return nxt, par


@njit(cache=True, nogil=True)
def _siso(sys, apr, par_llr, tail_x, tail_z, nxt, par, alpha, ext):
    """One constituent decoder: systematic, a-priori and parity LLRs of K steps plus the three
    tail steps -> extrinsic LLRs ``ext[K]`` (max-log-MAP, start and end in state 0)."""
    n = sys.size
    alpha[0, :] = NEG
    alpha[0, 0] = 0.0
    for k in range(n):
        lu = 0.5 * (sys[k] + apr[k])
        lp = 0.5 * par_llr[k]
        for s in range(8):
            alpha[k + 1, s] = NEG
        for s in range(8):
            a = alpha[k, s]
            if a <= NEG / 2:
                continue
            for u in range(2):
                m = a + (lu if u == 0 else -lu) + par[s, u] * lp
                ns = nxt[s, u]
                if m > alpha[k + 1, ns]:
                    alpha[k + 1, ns] = m
        mx = alpha[k + 1].max()  # keep the metrics bounded
        for s in range(8):
            alpha[k + 1, s] -= mx
    # tail: only the branch whose feedback is 0
    beta = np.full(8, NEG, np.float32)
    beta[0] = 0.0
    tb = np.empty((4, 8), np.float32)
    tb[3, :] = beta
    for t in range(2, -1, -1):
        lu = 0.5 * tail_x[t]
        lp = 0.5 * tail_z[t]
        for s in range(8):
            u = ((s >> 1) & 1) ^ ((s >> 2) & 1)
            ns = nxt[s, u]
            tb[t, s] = tb[t + 1, ns] + (lu if u == 0 else -lu) + par[s, u] * lp
    beta[:] = tb[0, :]
    nb = np.empty(8, np.float32)
    for k in range(n - 1, -1, -1):
        lu = 0.5 * (sys[k] + apr[k])
        lp = 0.5 * par_llr[k]
        best0 = NEG
        best1 = NEG
        for s in range(8):
            a = alpha[k, s]
            b0 = beta[nxt[s, 0]] + par[s, 0] * lp
            b1 = beta[nxt[s, 1]] + par[s, 1] * lp
            if a + b0 > best0:
                best0 = a + b0
            if a + b1 > best1:
                best1 = a + b1
            nb[s] = max(b0 + lu, b1 - lu)
        ext[k] = best0 - best1
        beta[:] = nb
        mx = beta.max()  # keep the metrics bounded
        beta -= mx


@njit(cache=True, nogil=True)
def decode(d, perm, iterations, crc_width, crc_poly, scale):
    """LLRs ``d[3, K + 4]`` (the encoder's layout) -> (bits[K], iterations run, CRC held).
    Stops early when the hard decision satisfies the block's CRC (``crc_width`` 0: runs
    every iteration, CRC not checked). Extrinsic information is scaled by ``scale``."""
    n = d.shape[1] - 4
    nxt, par = _trellis()
    sys = d[0, :n].copy()
    sys2 = np.empty(n, np.float32)
    for i in range(n):
        sys2[i] = sys[perm[i]]
    t1x = np.array([d[0, n], d[2, n], d[1, n + 1]], np.float32)
    t1z = np.array([d[1, n], d[0, n + 1], d[2, n + 1]], np.float32)
    t2x = np.array([d[0, n + 2], d[2, n + 2], d[1, n + 3]], np.float32)
    t2z = np.array([d[1, n + 2], d[0, n + 3], d[2, n + 3]], np.float32)
    p1 = d[1, :n].copy()
    p2 = d[2, :n].copy()
    alpha = np.empty((n + 1, 8), np.float32)
    apr1 = np.zeros(n, np.float32)
    apr2 = np.empty(n, np.float32)
    e1 = np.empty(n, np.float32)
    e2 = np.empty(n, np.float32)
    bits = np.empty(n, np.uint8)
    ok = False
    done = 0
    while done < iterations:
        done += 1
        _siso(sys, apr1, p1, t1x, t1z, nxt, par, alpha, e1)
        for i in range(n):
            apr2[i] = scale * e1[perm[i]]
        _siso(sys2, apr2, p2, t2x, t2z, nxt, par, alpha, e2)
        for i in range(n):
            apr1[perm[i]] = scale * e2[i]
        for i in range(n):
            bits[i] = 1 if sys[i] + e1[i] + apr1[i] < 0 else 0
        if crc_width and crc_bits(bits, crc_width, crc_poly, 0) == 0:
            ok = True
            break
    return bits, done, ok
