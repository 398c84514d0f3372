"""Table-driven CRC of any width 1..32 (Rocksoft/Williams model: poly, init, refin, refout, xorout).

``crc_table`` builds the 256-entry table once; ``crc_bytes`` runs over bytes, ``crc_bits`` over
a bit array (for transport-block CRCs whose length is not a whole number of bytes), and
``crc_bits_table`` over a bit array eight bits a step with the table built beforehand (the
code blocks of a transport block, checked once per turbo iteration).
"""
import numpy as np
from numba import njit

from sdrcast.phy.kernels.bits import byte_at


@njit(cache=True, nogil=True)
def _reflect(v, width):
    r = 0
    for i in range(width):
        if (v >> i) & 1:
            r |= 1 << (width - 1 - i)
    return r


@njit(cache=True, nogil=True)
def crc_table(width, poly, refin):
    """256-entry table for ``poly`` (without the x^width term)."""
    table = np.zeros(256, np.int64)
    mask = (1 << width) - 1
    for byte in range(256):
        if refin:
            rpoly = _reflect(poly, width)
            crc = byte
            for _ in range(8):
                crc = (crc >> 1) ^ rpoly if crc & 1 else crc >> 1
        elif width >= 8:
            crc = byte << (width - 8)
            top = 1 << (width - 1)
            for _ in range(8):
                crc = ((crc << 1) ^ poly) if crc & top else (crc << 1)
                crc &= mask
        else:  # narrow CRCs: shift the byte through bit by bit in an 8-bit window
            crc = byte
            for _ in range(8):
                crc = ((crc << 1) ^ (poly << (8 - width))) if crc & 0x80 else (crc << 1)
                crc &= 0xFF
            crc >>= 8 - width
        table[byte] = crc & mask
    return table


@njit(cache=True, nogil=True)
def crc_bytes(data, table, width, init, refin, refout, xorout):
    """CRC of a uint8 array with a table from ``crc_table``."""
    mask = (1 << width) - 1
    crc = _reflect(init, width) if refin else init
    if refin:
        for i in range(data.size):
            crc = (crc >> 8) ^ table[(crc ^ data[i]) & 0xFF]
    elif width >= 8:
        for i in range(data.size):
            idx = ((crc >> (width - 8)) ^ data[i]) & 0xFF
            crc = ((crc << 8) ^ table[idx]) & mask
    else:
        for i in range(data.size):
            idx = ((crc << (8 - width)) ^ data[i]) & 0xFF
            crc = table[idx] & mask
    if refin != refout:
        crc = _reflect(crc, width)
    return (crc ^ xorout) & mask


@njit(cache=True, nogil=True)
def crc_bits(bits, width, poly, init):
    """Non-reflected CRC over a bit array (MSB-first polynomial division), no final XOR.

    The remainder of ``bits(x) * x^width`` (after seeding the register with ``init``), as used by
    the 3GPP TS 36.212 5.1.1 CRCs with ``init = 0``.
    """
    mask = (1 << width) - 1
    top = 1 << (width - 1)
    crc = init
    for i in range(bits.size):
        fb = ((crc & top) != 0) ^ (bits[i] & 1)
        crc = (crc << 1) & mask
        if fb:
            crc ^= poly
    return crc


@njit(cache=True, nogil=True)
def crc_bits_table(bits, table, width, poly, init):
    """``crc_bits`` (width >= 8) with ``table = crc_table(width, poly, False)``: the whole bytes
    through the table, the last ``size % 8`` bits one by one."""
    mask = (1 << width) - 1
    crc = init
    whole = bits.size // 8 * 8
    for i in range(0, whole, 8):
        crc = ((crc << 8) ^ table[((crc >> (width - 8)) ^ byte_at(bits, i)) & 0xFF]) & mask
    top = 1 << (width - 1)
    for i in range(whole, bits.size):
        fb = ((crc & top) != 0) ^ (bits[i] & 1)
        crc = (crc << 1) & mask
        if fb:
            crc ^= poly
    return crc
