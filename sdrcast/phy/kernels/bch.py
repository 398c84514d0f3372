"""Binary BCH kernels: GF(2^m) tables, table-driven polynomial division, syndromes,
Berlekamp-Massey and Chien search.

Bits are MSB-first polynomials (the first bit is the highest-degree coefficient). Remainders
are kept left-aligned in ``nw`` 64-bit words (word 0 most significant).
"""
import numpy as np
from numba import njit


def gf_tables(prim_poly, m):
    """``exp`` (length 2(2^m-1)) and ``log`` (length 2^m) for GF(2^m) built on ``prim_poly``."""
    n = (1 << m) - 1
    exp = np.zeros(2 * n, np.int32)
    log = np.zeros(n + 1, np.int32)
    x = 1
    for i in range(n):
        exp[i] = x
        log[x] = i
        x <<= 1
        if x >> m:
            x ^= prim_poly
    exp[n:] = exp[:n]
    return exp, log


def division_tables(gen, deg):
    """Byte table and left-aligned generator for dividing by ``gen`` (int, degree ``deg`` >= 8).

    ``table[v]`` is ``(v(x) x^deg) mod gen`` for each byte ``v``; both are returned as
    ``[.., nw]`` uint64 left-aligned words.
    """
    nw = (deg + 63) // 64
    shift = nw * 64 - deg
    low = gen & ((1 << deg) - 1)
    table = np.zeros((256, nw), np.uint64)
    for v in range(256):
        r = v << deg
        for bit in range(deg + 7, deg - 1, -1):
            if r >> bit & 1:
                r ^= gen << (bit - deg)
        a = r << shift
        for w in range(nw):
            table[v, w] = (a >> (64 * (nw - 1 - w))) & 0xFFFFFFFFFFFFFFFF
    galigned = np.zeros(nw, np.uint64)
    a = low << shift
    for w in range(nw):
        galigned[w] = (a >> (64 * (nw - 1 - w))) & 0xFFFFFFFFFFFFFFFF
    return table, galigned


@njit(cache=True, nogil=True)
def _shl(reg, s):
    nw = reg.size
    for w in range(nw):
        hi = reg[w] << np.uint64(s)
        if w + 1 < nw:
            hi |= reg[w + 1] >> np.uint64(64 - s)
        reg[w] = hi


@njit(cache=True, nogil=True)
def remainder(bits, table, galigned):
    """Left-aligned ``(bits(x) x^deg) mod g(x)``: the systematic parity of a message, or, for a
    whole codeword, a remainder that is zero exactly when g divides it."""
    nw = galigned.size
    reg = np.zeros(nw, np.uint64)
    n = bits.size
    head = n % 8
    for i in range(head):
        top = (reg[0] >> np.uint64(63)) ^ np.uint64(bits[i])
        _shl(reg, 1)
        if top:
            for w in range(nw):
                reg[w] ^= galigned[w]
    for i in range(head, n, 8):
        v = 0
        for j in range(8):
            v = (v << 1) | bits[i + j]
        top = (reg[0] >> np.uint64(56)) ^ np.uint64(v)
        _shl(reg, 8)
        for w in range(nw):
            reg[w] ^= table[top, w]
    return reg


@njit(cache=True, nogil=True)
def remainder_bits(reg, deg):
    """Left-aligned register -> ``deg`` MSB-first bits."""
    out = np.empty(deg, np.uint8)
    for i in range(deg):
        out[i] = (reg[i >> 6] >> np.uint64(63 - (i & 63))) & np.uint64(1)
    return out


@njit(cache=True, nogil=True)
def encode_batch(msg, table, galigned, deg):
    """Systematic encoding of ``msg[batch, k]``: message then ``deg`` parity bits."""
    batch, kk = msg.shape
    out = np.empty((batch, kk + deg), np.uint8)
    for b in range(batch):
        out[b, :kk] = msg[b]
        out[b, kk:] = remainder_bits(remainder(msg[b], table, galigned), deg)
    return out


@njit(cache=True, nogil=True)
def _gf_mul(a, b, exp, log):
    if a == 0 or b == 0:
        return 0
    return exp[log[a] + log[b]]


@njit(cache=True, nogil=True)
def decode_one(word, table, galigned, deg, t, exp, log, m):
    """Correct up to ``t`` errors in one codeword in place; returns the number corrected or -1.

    Fast path: g divides the word -> 0. Otherwise the 2t syndromes are evaluated on the
    remainder, Berlekamp-Massey gives the error locator and a Chien search over the (shortened)
    positions finds the errors; a locator whose roots are not all found means failure.
    """
    reg = remainder(word, table, galigned)
    nonzero = False
    for w in range(reg.size):
        if reg[w]:
            nonzero = True
    if not nonzero:
        return 0
    n_field = (1 << m) - 1
    # reg holds (c(x) x^deg) mod g; multiply back out: syndromes of c are rem(a^j) * a^(-j deg)
    rb = remainder_bits(reg, deg)
    S = np.zeros(2 * t + 1, np.int64)
    for j in range(1, 2 * t + 1):
        acc = 0
        for i in range(deg):  # rb[i] is the coefficient of x^(deg-1-i)
            if rb[i]:
                acc ^= exp[(j * (deg - 1 - i)) % n_field]
        if acc:
            acc = exp[(log[acc] - j * deg) % n_field]
        S[j] = acc
    # Berlekamp-Massey
    C = np.zeros(2 * t + 2, np.int64)
    B = np.zeros(2 * t + 2, np.int64)
    C[0] = 1
    B[0] = 1
    L = 0
    mm = 1
    bb = 1
    for r in range(2 * t):
        d = S[r + 1]
        for i in range(1, L + 1):
            d ^= _gf_mul(C[i], S[r + 1 - i], exp, log)
        if d == 0:
            mm += 1
            continue
        coef = exp[(log[d] - log[bb]) % n_field]
        if 2 * L <= r:
            T = C.copy()
            for i in range(mm, 2 * t + 2):
                C[i] ^= _gf_mul(coef, B[i - mm], exp, log)
            L = r + 1 - L
            B[:] = T
            bb = d
            mm = 1
        else:
            for i in range(mm, 2 * t + 2):
                C[i] ^= _gf_mul(coef, B[i - mm], exp, log)
            mm += 1
    if L > t:
        return -1
    # Chien search over the codeword positions: bit i has exponent e = n-1-i
    n = word.size
    logc = np.empty(L + 1, np.int64)
    for k in range(L + 1):
        logc[k] = log[C[k]] if C[k] else -1
    found = 0
    for i in range(n):
        e = n - 1 - i
        val = 0
        for k in range(L + 1):
            if logc[k] >= 0:
                val ^= exp[(logc[k] - e * k) % n_field]
        if val == 0:
            word[i] ^= 1
            found += 1
    if found != L:
        return -1
    return found
