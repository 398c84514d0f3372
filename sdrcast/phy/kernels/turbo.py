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
    """Next state and parity sign (+1 for parity bit 0) of each (state, input)."""
    nxt = np.empty((8, 2), np.int64)
    par = np.empty((8, 2), np.float32)
    for s in range(8):
        for u in range(2):
            ns, z = _step(s, u)
            nxt[s, u] = ns
            par[s, u] = 1.0 - 2.0 * z
    return nxt, par


@njit(cache=True, nogil=True)
def _tail_beta(tail_x, tail_z, nxt, par):
    """Backward metrics at step K: through the three tail steps (the input that zeroes the
    feedback) into state 0."""
    beta = np.full(8, NEG, np.float32)
    beta[0] = 0.0
    for t in range(2, -1, -1):
        nb = np.full(8, NEG, np.float32)
        for s in range(8):
            u = ((s >> 1) & 1) ^ ((s >> 2) & 1)
            if beta[nxt[s, u]] > NEG / 2:
                nb[s] = beta[nxt[s, u]] + (0.5 if u == 0 else -0.5) * tail_x[t] + 0.5 * par[s, u] * tail_z[t]
        beta = nb
    return beta - beta.max()


@njit(cache=True, nogil=True, fastmath=True)
def _siso(lu, lp, alpha, a_init, b_init, b_tail, nxt, par, ext):
    """One constituent decoder over ``W`` windows at once (the lanes, last axis): ``lu``/``lp``
    ``[L, W]`` half the systematic + a-priori and half the parity LLRs of step t of window w
    (block position w L + t); ``a_init``/``b_init`` ``[8, W]`` the metrics each window starts
    from (window 0: state 0; the last window: ``b_tail``; others: the neighbour's from the
    previous iteration), updated in place for the next. Writes ``ext[L, W]``. The metrics
    are not renormalised inside a window (they grow by at most L |LLR|, well inside float32);
    only the ones handed on are."""
    n, w_count = lu.shape
    for s in range(8):
        for w in range(w_count):
            alpha[0, s, w] = a_init[s, w]
    for s in range(8):
        alpha[0, s, 0] = 0.0 if s == 0 else NEG
    pred = np.empty((8, 2), np.int64)
    pred_u = np.empty((8, 2), np.float32)
    pred_p = np.empty((8, 2), np.float32)
    cnt = np.zeros(8, np.int64)
    for s in range(8):
        for u in range(2):
            ns = nxt[s, u]
            pred[ns, cnt[ns]] = s
            pred_u[ns, cnt[ns]] = 1.0 - 2.0 * u
            pred_p[ns, cnt[ns]] = par[s, u]
            cnt[ns] += 1
    for t in range(n):  # row views keep the lane loops contiguous: they vectorise
        at, an, lut, lpt = alpha[t], alpha[t + 1], lu[t], lp[t]
        for ns in range(8):
            a0, a1, out = at[pred[ns, 0]], at[pred[ns, 1]], an[ns]
            u0, u1, p0, p1 = pred_u[ns, 0], pred_u[ns, 1], pred_p[ns, 0], pred_p[ns, 1]
            for w in range(w_count):
                m0 = a0[w] + u0 * lut[w] + p0 * lpt[w]
                m1 = a1[w] + u1 * lut[w] + p1 * lpt[w]
                out[w] = max(m0, m1)
    beta = np.empty((8, w_count), np.float32)
    nb = np.empty((8, w_count), np.float32)
    g = np.empty((2, 8, w_count), np.float32)  # beta of each branch's end plus its parity
    for s in range(8):
        for w in range(w_count):
            beta[s, w] = b_init[s, w]
        beta[s, w_count - 1] = b_tail[s]
    for w in range(w_count - 1):  # next iteration: each window starts where its neighbour ended
        for s in range(8):
            a_init[s, w + 1] = alpha[n, s, w] - alpha[n, 0, w]
    for t in range(n - 1, -1, -1):
        at, lut, lpt, et = alpha[t], lu[t], lp[t], ext[t]
        for u in range(2):
            for s in range(8):
                br, q, o = beta[nxt[s, u]], par[s, u], g[u, s]
                for w in range(w_count):
                    o[w] = br[w] + q * lpt[w]
        g0, g1 = g[0], g[1]
        for s in range(8):
            o, x0, x1 = nb[s], g0[s], g1[s]
            for w in range(w_count):
                o[w] = max(x0[w] + lut[w], x1[w] - lut[w])
        for w in range(w_count):  # the eight states written out: this loop then vectorises
            m0 = max(max(max(at[0, w] + g0[0, w], at[1, w] + g0[1, w]),
                          max(at[2, w] + g0[2, w], at[3, w] + g0[3, w])),
                     max(max(at[4, w] + g0[4, w], at[5, w] + g0[5, w]),
                         max(at[6, w] + g0[6, w], at[7, w] + g0[7, w])))
            m1 = max(max(max(at[0, w] + g1[0, w], at[1, w] + g1[1, w]),
                          max(at[2, w] + g1[2, w], at[3, w] + g1[3, w])),
                     max(max(at[4, w] + g1[4, w], at[5, w] + g1[5, w]),
                         max(at[6, w] + g1[6, w], at[7, w] + g1[7, w])))
            et[w] = m0 - m1
        beta, nb = nb, beta
    for w in range(1, w_count):
        for s in range(8):
            b_init[s, w - 1] = beta[s, w] - beta[0, w]


@njit(cache=True, nogil=True)
def decode(d, perm, iterations, crc_width, crc_poly, scale, windows):
    """LLRs ``d[3, K + 4]`` (the encoder's layout) -> (bits[K], iterations run, CRC held).
    Max-log-MAP with extrinsic information scaled by ``scale``, the block cut into
    ``windows`` equal windows decoded side by side (vector lanes), each starting from its
    neighbour's metrics of the previous iteration. Stops early when the hard decision
    satisfies the block's CRC (``crc_width`` 0: every iteration, CRC not checked)."""
    n = d.shape[1] - 4
    length = n // windows
    nxt, par = _trellis()
    sys1 = d[0, :n].copy()
    sys2 = np.empty(n, np.float32)
    for i in range(n):
        sys2[i] = sys1[perm[i]]
    tail1 = _tail_beta(np.array([d[0, n], d[2, n], d[1, n + 1]], np.float32),
                       np.array([d[1, n], d[0, n + 1], d[2, n + 1]], np.float32), nxt, par)
    tail2 = _tail_beta(np.array([d[0, n + 2], d[2, n + 2], d[1, n + 3]], np.float32),
                       np.array([d[1, n + 2], d[0, n + 3], d[2, n + 3]], np.float32), nxt, par)
    lp1 = np.empty((length, windows), np.float32)
    lp2 = np.empty((length, windows), np.float32)
    for w in range(windows):
        for t in range(length):
            lp1[t, w] = 0.5 * d[1, w * length + t]
            lp2[t, w] = 0.5 * d[2, w * length + t]
    lu = np.empty((length, windows), np.float32)
    ext = np.empty((length, windows), np.float32)
    alpha = np.empty((length + 1, 8, windows), np.float32)
    a1 = np.zeros((8, windows), np.float32)
    b1 = np.zeros((8, windows), np.float32)
    a2 = np.zeros((8, windows), np.float32)
    b2 = np.zeros((8, windows), np.float32)
    apr1 = np.zeros(n, np.float32)
    e1 = np.empty(n, np.float32)
    e2 = np.empty(n, np.float32)
    bits = np.empty(n, np.uint8)
    ok = False
    done = 0
    while done < iterations:
        done += 1
        for w in range(windows):
            for t in range(length):
                k = w * length + t
                lu[t, w] = 0.5 * (sys1[k] + apr1[k])
        _siso(lu, lp1, alpha, a1, b1, tail1, nxt, par, ext)
        for w in range(windows):
            for t in range(length):
                e1[w * length + t] = ext[t, w]
        for w in range(windows):
            for t in range(length):
                k = w * length + t
                lu[t, w] = 0.5 * (sys2[k] + scale * e1[perm[k]])
        _siso(lu, lp2, alpha, a2, b2, tail2, nxt, par, ext)
        for w in range(windows):
            for t in range(length):
                e2[w * length + t] = ext[t, w]
        for i in range(n):
            apr1[perm[i]] = scale * e2[i]
        for i in range(n):
            bits[i] = 1 if sys1[i] + e1[i] + apr1[i] < 0 else 0
        if crc_width and crc_bits(bits, crc_width, crc_poly, 0) == 0:
            ok = True
            break
    return bits, done, ok


@njit(cache=True, nogil=True)
def encode_rate_matched(b, sizes, crc_poly, perms, positions, e):
    """A transport block's code blocks through CRC24B (``crc_poly`` != 0: more than one
    block), turbo encoding and rate matching, in one pass: ``b`` the bits to segment (filler
    zeros, TB, CRC24A), ``sizes`` each block's K, ``perms`` their QPP permutations back to
    back, ``positions`` each block's rate-matching gather into its flattened ``d[3, K + 4]``
    (``positions[r]`` an array), written one after the other into ``e``."""
    pos_b, pos_p, pos_e = 0, 0, 0
    for r in range(sizes.size):
        k = sizes[r]
        c = np.empty(k, np.uint8)
        take = k - 24 if crc_poly else k
        c[:take] = b[pos_b:pos_b + take]
        pos_b += take
        if crc_poly:
            v = crc_bits(c[:take], 24, crc_poly, 0)
            for i in range(24):
                c[take + i] = (v >> (23 - i)) & 1
        d = encode(c, perms[pos_p:pos_p + k])
        pos_p += k
        flat = d.reshape(-1)
        p = positions[r]
        for i in range(p.size):
            e[pos_e + i] = flat[p[i]]
        pos_e += p.size
