"""Tail-biting convolutional code of LTE (3GPP TS 36.212 5.1.3.1): constraint length 7, rate
1/3, generators 133, 171, 165 (octal), the register starting with the block's last six bits;
decoding by Viterbi around the circle (the block decoded three times over, the middle pass
kept).

State: the last six input bits, bit 0 the newest. ``masks[k]``: bit j set when generator k
takes c(i - j) (the octal generator read from its least significant end, reversed)."""
import numpy as np
from numba import njit

from sdrcast.phy.kernels.prbs import _parity


@njit(cache=True, nogil=True)
def encode(c, masks):
    """``c[K]`` -> ``d[n_out, K]``."""
    n = c.size
    d = np.empty((masks.size, n), np.uint8)
    state = 0
    for j in range(6):  # c(K-1) newest .. c(K-6)
        state |= (c[(n - 1 - j) % n] & 1) << j
    for i in range(n):
        reg = (state << 1) | c[i]
        for k in range(masks.size):
            d[k, i] = _parity(reg & masks[k])
        state = reg & 63
    return d


@njit(cache=True, nogil=True)
def decode(llr, masks):
    """LLRs ``[n_out, K]`` (positive = 0) -> bits[K], tail-biting Viterbi (wrap-around)."""
    n_out, n = llr.shape
    total = 3 * n
    metric = np.zeros(64, np.float32)
    new = np.empty(64, np.float32)
    choice = np.empty((total, 64), np.uint8)  # the oldest bit of the predecessor
    sign = np.empty((128, n_out), np.float32)
    for reg in range(128):
        for k in range(n_out):
            sign[reg, k] = 1.0 - 2.0 * _parity(reg & masks[k])
    for t in range(total):
        i = t % n
        for ns in range(64):
            u = ns & 1
            best = np.float32(-1e30)
            pick = 0
            for old in range(2):  # the bit that leaves the register
                s = (ns >> 1) | (old << 5)
                reg = (s << 1) | u
                m = metric[s]
                for k in range(n_out):
                    m += sign[reg, k] * llr[k, i]
                if m > best:
                    best = m
                    pick = old
            new[ns] = best
            choice[t, ns] = pick
        mx = new.max()
        for s in range(64):
            metric[s] = new[s] - mx
    state = int(np.argmax(metric))
    bits = np.empty(total, np.uint8)
    for t in range(total - 1, -1, -1):
        bits[t] = state & 1
        state = (state >> 1) | (int(choice[t, state]) << 5)
    return bits[n:2 * n].copy()
