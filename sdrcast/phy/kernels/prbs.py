"""Linear-feedback shift registers (Fibonacci and Galois forms) and the ITU-T O.150 PRBS.

Polynomials are integers with bit k set for the term x^k (``1 + x^14 + x^15`` is
``(1 << 15) | (1 << 14) | 1``); the degree L is the highest set bit.
"""
import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _parity(v):
    p = 0
    while v:
        p ^= 1
        v &= v - 1
    return p


@njit(cache=True, nogil=True)
def _degree(poly):
    d = 0
    while poly > 1:
        poly >>= 1
        d += 1
    return d


@njit(cache=True, nogil=True)
def lfsr_fibonacci(poly, state, n):
    """Fibonacci LFSR: stages D1..DL are state bits 0..L-1 (D1 = bit 0).

    Each step the output is the XOR of the stages D_k for every x^k (k >= 1) of ``poly``; it is
    shifted into D1 while D1..D(L-1) move to D2..DL. Returns ``(bits[n], final_state)``. This is
    the register of EN 300 744 / GB 20600 4.4.1 style scramblers (state written D1 first).
    """
    degree = _degree(poly)
    mask = (1 << degree) - 1
    taps = (poly >> 1) & mask  # bit k-1 <-> stage Dk for term x^k
    out = np.empty(n, np.uint8)
    for i in range(n):
        b = _parity(state & taps)
        out[i] = b
        state = ((state << 1) | b) & mask
    return out, state


@njit(cache=True, nogil=True)
def lfsr_galois(poly, state, n):
    """Galois LFSR (CRC-style): output the top bit, shift left, XOR ``poly`` in when it was 1.

    Returns ``(bits[n], final_state)``.
    """
    degree = _degree(poly)
    mask = (1 << degree) - 1
    top = degree - 1
    out = np.empty(n, np.uint8)
    for i in range(n):
        b = (state >> top) & 1
        out[i] = b
        state = (state << 1) & mask
        if b:
            state ^= poly & mask
    return out, state


@njit(cache=True, nogil=True)
def lfsr_galois_right_states(feedback, state, n):
    """Galois LFSR shifting right: ``n`` successive states (the first is ``state``); each step
    shifts right and XORs ``feedback`` in when the bit shifted out was 1 (the ATSC 3.0
    baseband scrambler's register, whose output byte is read from several state bits)."""
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = state
        low = state & 1
        state >>= 1
        if low:
            state ^= feedback
    return out


# ITU-T O.150 pseudo-random test sequences: order -> (x^a + x^b + 1) as (a, b)
PRBS_POLYS = {7: (7, 6), 9: (9, 5), 11: (11, 9), 15: (15, 14), 20: (20, 3), 23: (23, 18),
              31: (31, 28)}


def prbs(order, n, state=None):
    """``n`` bits of the O.150 PRBS of ``order`` (7, 9, 11, 15, 20, 23, 31), all-ones seed."""
    if order not in PRBS_POLYS:
        raise ValueError(f"PRBS order={order!r} is not allowed; choose one of {sorted(PRBS_POLYS)}")
    a, b = PRBS_POLYS[order]
    poly = (1 << a) | (1 << b) | 1
    seed = (1 << order) - 1 if state is None else state
    return lfsr_fibonacci(poly, seed, n)[0]


_GOLD_X1 = (1 << 31) | (1 << 28) | 1  # x1(n+31) = x1(n+3) + x1(n)
_GOLD_X2 = (1 << 31) | (1 << 30) | (1 << 29) | (1 << 28) | 1  # x2(n+31) = x2(n+3..n)


@njit(cache=True, nogil=True)
def gold(c_init, n):
    """3GPP TS 36.211 7.2 pseudo-random sequence c(0..n-1) for ``c_init``: two 31-stage
    Fibonacci registers (x1 seeded 1, 0, ..., 0; x2 with c_init = sum x2(i) 2^i) run 1600
    steps (Nc) ahead and XORed. Stage D1 holds the newest bit, so x(i) sits at bit 30 - i."""
    x2_state = 0
    for i in range(31):
        if (c_init >> i) & 1:
            x2_state |= 1 << (30 - i)
    skip = 1600 - 31
    x1 = lfsr_fibonacci(_GOLD_X1, 1 << 30, skip + n)[0]
    x2 = lfsr_fibonacci(_GOLD_X2, x2_state, skip + n)[0]
    return x1[skip:] ^ x2[skip:]
