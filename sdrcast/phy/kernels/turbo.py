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

from sdrcast.phy.kernels.bits import byte_at
from sdrcast.phy.kernels.crc import crc_bits_table

NEG = np.float32(-1e30)


@njit(cache=True, nogil=True)
def _step(state, u):
    """(next state, parity bit) for input ``u``."""
    a = u ^ ((state >> 1) & 1) ^ ((state >> 2) & 1)
    z = a ^ (state & 1) ^ ((state >> 2) & 1)
    return ((state << 1) | a) & 7, z


@njit(cache=True)
def _byte_steps():
    """``[state, byte]`` -> (state after the byte's eight bits, MSB first; their parity bits)."""
    table = np.empty((8, 256, 2), np.uint8)
    for s in range(8):
        for byte in range(256):
            state, parity = s, 0
            for j in range(8):
                state, z = _step(state, (byte >> (7 - j)) & 1)
                parity = (parity << 1) | z
            table[s, byte, 0], table[s, byte, 1] = state, parity
    return table


_BYTE_STEPS = _byte_steps()


@njit(cache=True, nogil=True)
def _constituent(c, out_z, tail_x, tail_z):
    state = 0
    whole = c.size // 8 * 8
    for k in range(0, whole, 8):  # eight steps a table lookup
        byte = byte_at(c, k)
        parity = _BYTE_STEPS[state, byte, 1]
        state = _BYTE_STEPS[state, byte, 0]
        for j in range(8):
            out_z[k + j] = (parity >> (7 - j)) & 1
    for k in range(whole, c.size):
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


# The decoder's workspace: one float32 array of rows, row t holding step t of every window
# (lane): the eight state metrics, then the step's halved systematic + a-priori LLR, halved
# parity LLR and extrinsic output. Offsets are unsigned compile-time constants so that every
# access in a step is a constant distance from one base; the compiler then proves that loads
# and stores do not overlap and vectorises across the lanes (AVX2: 8 lanes an instruction).
LANES = 32
_W = np.uint64(LANES)
_ROW = np.uint64(11 * LANES)
_LU, _LP, _EX = np.uint64(8 * LANES), np.uint64(9 * LANES), np.uint64(10 * LANES)
_S1, _S2, _S3, _S4, _S5, _S6, _S7 = (np.uint64(s * LANES) for s in range(1, 8))


@njit(cache=True, nogil=True, inline="always")
def _branch(ws, at):
    """A step's two branch metrics, lu + lp and lu - lp, and lp, for the lane at ``at``."""
    lu = ws[at + _LU]
    lp = ws[at + _LP]
    return lu + lp, lu - lp, lp


@njit(cache=True, nogil=True, inline="always")
def _states(ws, at):
    """The eight state metrics of the lane at ``at``."""
    return (ws[at], ws[at + _S1], ws[at + _S2], ws[at + _S3], ws[at + _S4], ws[at + _S5], ws[at + _S6],
            ws[at + _S7])


@njit(cache=True, nogil=True, fastmath=True)
def _forward(ws, n):
    """Forward metrics of steps 1..n from row 0's. The trellis written out: from state s the
    input u = 0 goes to ``nxt[s, 0]`` with branch metric +(lu + lp) for s in {0, 3, 4, 7} and
    +(lu - lp) for the others; u = 1 goes to ``nxt[s, 1]`` with the metric negated."""
    for t in range(n):
        i = np.uint64(t) * _ROW
        o = i + _ROW
        for w in range(_W):
            a, b, _ = _branch(ws, i + w)
            a0, a1, a2, a3, a4, a5, a6, a7 = _states(ws, i + w)
            ws[o + w] = max(a0 + a, a4 - a)
            ws[o + _S1 + w] = max(a0 - a, a4 + a)
            ws[o + _S2 + w] = max(a1 + b, a5 - b)
            ws[o + _S3 + w] = max(a1 - b, a5 + b)
            ws[o + _S4 + w] = max(a2 - b, a6 + b)
            ws[o + _S5 + w] = max(a2 + b, a6 - b)
            ws[o + _S6 + w] = max(a3 - a, a7 + a)
            ws[o + _S7 + w] = max(a3 + a, a7 - a)


@njit(cache=True, nogil=True, fastmath=True)
def _backward(ws, n):
    """Backward metrics from row n's down to row 0, each overwriting the forward metrics of
    its row once the step's extrinsic output (written to the row) has used them."""
    for t in range(n - 1, -1, -1):
        i = np.uint64(t) * _ROW
        for w in range(_W):
            a, b, lp = _branch(ws, i + w)
            b0, b1, b2, b3, b4, b5, b6, b7 = _states(ws, i + _ROW + w)
            a0, a1, a2, a3, a4, a5, a6, a7 = _states(ws, i + w)
            # best path with u = 0 (parity +lp on the first four branches, -lp on the others)
            p0 = max(max(a0 + b0, a3 + b7), max(a4 + b1, a7 + b6))
            q0 = max(max(a1 + b2, a2 + b5), max(a5 + b3, a6 + b4))
            p1 = max(max(a1 + b3, a2 + b4), max(a5 + b2, a6 + b5))
            q1 = max(max(a0 + b1, a3 + b6), max(a4 + b0, a7 + b7))
            ws[i + _EX + w] = max(p0 + lp, q0 - lp) - max(p1 + lp, q1 - lp)
            ws[i + w] = max(b0 + a, b1 - a)
            ws[i + _S1 + w] = max(b2 + b, b3 - b)
            ws[i + _S2 + w] = max(b5 + b, b4 - b)
            ws[i + _S3 + w] = max(b7 + a, b6 - a)
            ws[i + _S4 + w] = max(b1 + a, b0 - a)
            ws[i + _S5 + w] = max(b3 + b, b2 - b)
            ws[i + _S6 + w] = max(b4 + b, b5 - b)
            ws[i + _S7 + w] = max(b6 + a, b7 - a)


@njit(cache=True, nogil=True)
def _siso(ws, n, windows, a_init, b_init, b_tail):
    """One constituent decoder over the workspace's ``n`` rows (``windows`` lanes used):
    ``a_init``/``b_init`` ``[8, LANES]`` the metrics each window starts from (window 0:
    state 0; the last window: ``b_tail``; the others: the neighbour's from the previous
    iteration), updated in place for the next. Leaves the extrinsic LLRs in the rows. The
    metrics are not renormalised inside a window (they grow by at most n |LLR|, well inside
    float32); only the ones handed on are."""
    row = 11 * LANES
    for s in range(8):
        for w in range(LANES):
            ws[s * LANES + w] = a_init[s, w]
        ws[s * LANES] = 0.0 if s == 0 else NEG
    _forward(ws, n)
    end = n * row
    for w in range(LANES - 1):  # next iteration: each window starts where its neighbour ended
        for s in range(8):
            a_init[s, w + 1] = ws[end + s * LANES + w] - ws[end + w]
    for s in range(8):
        for w in range(LANES):
            ws[end + s * LANES + w] = b_init[s, w]
        ws[end + s * LANES + windows - 1] = b_tail[s]
    _backward(ws, n)
    for w in range(1, LANES):
        for s in range(8):
            b_init[s, w - 1] = ws[s * LANES + w] - ws[w]


@njit(cache=True, nogil=True)
def _inputs(ws, sys, par, ext, other, half, length, windows):
    """A constituent decoder's inputs into the workspace rows: the halved systematic LLR plus
    the other decoder's extrinsic for the same bit (``ext[other[q]]``) times ``half``, and the
    halved parity LLR."""
    for t in range(length):
        i = t * (11 * LANES)
        for w in range(windows):
            q = t * windows + w
            ws[i + 8 * LANES + w] = sys[q] + half * ext[other[q]]
            ws[i + 9 * LANES + w] = par[q]


@njit(cache=True, nogil=True)
def decode(d, iterations, crc_width, crc_poly, crc_table, scale, windows, at, inv_at, perm_at, nat):
    """LLRs ``d[3, K + 4]`` (the encoder's layout) -> (bits[K], iterations run, CRC held).
    Max-log-MAP with extrinsic information scaled by ``scale``, the block cut into
    ``windows`` equal windows decoded side by side (vector lanes), each starting from its
    neighbour's metrics of the previous iteration. Stops early when the hard decision
    satisfies the block's CRC (``crc_width`` 0: every iteration, CRC not checked).

    Lane layout (``TurboCode`` builds it): position q = t windows + w holds step t of window
    w; ``at[q]`` its block index, ``nat[q]`` the block index of interleaved step q
    (``perm[at[q]]``), ``inv_at[q]``/``perm_at[q]`` where the other decoder's extrinsic for
    the same bit sits."""
    n = d.shape[1] - 4
    length = n // windows
    row = 11 * LANES
    nxt, par = _trellis()
    tail1 = _tail_beta(np.array([d[0, n], d[2, n], d[1, n + 1]], np.float32),
                       np.array([d[1, n], d[0, n + 1], d[2, n + 1]], np.float32), nxt, par)
    tail2 = _tail_beta(np.array([d[0, n + 2], d[2, n + 2], d[1, n + 3]], np.float32),
                       np.array([d[1, n + 2], d[0, n + 3], d[2, n + 3]], np.float32), nxt, par)
    ws = np.empty((length + 1) * row, np.float32)
    for t in range(length):  # unused lanes decode zeros
        ws[t * row + 8 * LANES + windows:t * row + 10 * LANES] = 0.0
    s1 = np.empty(n, np.float32)
    s2 = np.empty(n, np.float32)
    p1 = np.empty(n, np.float32)
    p2 = np.empty(n, np.float32)
    for q in range(n):
        s1[q] = 0.5 * d[0, at[q]]
        s2[q] = 0.5 * d[0, nat[q]]
        p1[q] = 0.5 * d[1, at[q]]
        p2[q] = 0.5 * d[2, at[q]]
    a1 = np.zeros((8, LANES), np.float32)
    b1 = np.zeros((8, LANES), np.float32)
    a2 = np.zeros((8, LANES), np.float32)
    b2 = np.zeros((8, LANES), np.float32)
    ext = np.zeros(n, np.float32)  # the last decoder's extrinsic LLRs, lane layout
    post = np.empty(n, np.float32)
    bits = np.empty(n, np.uint8)
    half = np.float32(0.5) * scale
    ok = False
    done = 0
    while done < iterations:
        done += 1
        _inputs(ws, s1, p1, ext, inv_at, half, length, windows)
        _siso(ws, length, windows, a1, b1, tail1)
        for t in range(length):
            i = t * row + 10 * LANES
            for w in range(windows):
                ext[t * windows + w] = ws[i + w]
        _inputs(ws, s2, p2, ext, perm_at, half, length, windows)
        _siso(ws, length, windows, a2, b2, tail2)
        for t in range(length):
            i = t * row
            for w in range(windows):
                q = t * windows + w
                x = ws[i + 10 * LANES + w]
                ext[q] = x
                post[q] = 2 * ws[i + 8 * LANES + w] + x  # the second decoder's posterior
        if crc_width or done == iterations:
            for q in range(n):
                bits[nat[q]] = 1 if post[q] < 0 else 0
        if crc_width and crc_bits_table(bits, crc_table, crc_width, crc_poly, 0) == 0:
            ok = True
            break
    return bits, done, ok


@njit(cache=True, nogil=True)
def encode_rate_matched(b, sizes, crc_poly, crc_table, perms, positions, e):
    """A transport block's code blocks through CRC24B (``crc_poly`` != 0: more than one
    block; ``crc_table`` its byte table), turbo encoding and rate matching, in one pass: ``b``
    the bits to segment (filler zeros, TB, CRC24A), ``sizes`` each block's K, ``perms`` their
    QPP permutations back to back, ``positions`` each block's rate-matching gather into its
    flattened ``d[3, K + 4]`` (``positions[r]`` an array), written one after the other into
    ``e``."""
    pos_b, pos_p, pos_e = 0, 0, 0
    for r in range(sizes.size):
        k = sizes[r]
        c = np.empty(k, np.uint8)
        take = k - 24 if crc_poly else k
        c[:take] = b[pos_b:pos_b + take]
        pos_b += take
        if crc_poly:
            v = crc_bits_table(c[:take], crc_table, 24, crc_poly, 0)
            for i in range(24):
                c[take + i] = (v >> (23 - i)) & 1
        d = encode(c, perms[pos_p:pos_p + k])
        pos_p += k
        flat = d.reshape(-1)
        p = positions[r]
        for i in range(p.size):
            e[pos_e + i] = flat[p[i]]
        pos_e += p.size
