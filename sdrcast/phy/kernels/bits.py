"""Bit packing and conversion. Bits are uint8 0/1, first bit in time first (MSB-first bytes)."""
import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def unpack_bits(data, msb_first=True):
    """Bytes (uint8) -> bits, 8 per byte, MSB first unless ``msb_first`` is False."""
    out = np.empty(data.size * 8, np.uint8)
    for i in range(data.size):
        b = data[i]
        for j in range(8):
            s = 7 - j if msb_first else j
            out[8 * i + j] = (b >> s) & 1
    return out


@njit(cache=True, nogil=True, inline="always")
def byte_at(bits, i):
    """The byte of bits ``i .. i + 7`` (MSB first) of a 0/1 array."""
    return ((bits[i] << 7) | (bits[i + 1] << 6) | (bits[i + 2] << 5) | (bits[i + 3] << 4)
            | (bits[i + 4] << 3) | (bits[i + 5] << 2) | (bits[i + 6] << 1) | bits[i + 7])


@njit(cache=True, nogil=True)
def pack_bits(bits, msb_first=True):
    """Bits -> bytes; a final partial byte is completed with zero bits (as numpy.packbits)."""
    n = (bits.size + 7) // 8
    out = np.zeros(n, np.uint8)
    for i in range(bits.size):
        s = 7 - (i & 7) if msb_first else (i & 7)
        out[i >> 3] |= (bits[i] & 1) << s
    return out


@njit(cache=True, nogil=True)
def bits_to_int(bits):
    """MSB-first bits -> unsigned integer (up to 63 bits)."""
    v = 0
    for i in range(bits.size):
        v = (v << 1) | (bits[i] & 1)
    return v


@njit(cache=True, nogil=True)
def int_to_bits(value, n):
    """Unsigned integer -> ``n`` bits, MSB first."""
    out = np.empty(n, np.uint8)
    for i in range(n):
        out[i] = (value >> (n - 1 - i)) & 1
    return out


@njit(cache=True, nogil=True)
def bits_to_symbols(bits, bits_per_symbol):
    """Group bits into MSB-first labels of ``bits_per_symbol`` bits (trailing bits ignored by caller)."""
    n = bits.size // bits_per_symbol
    out = np.empty(n, np.int32)
    for i in range(n):
        v = 0
        for j in range(bits_per_symbol):
            v = (v << 1) | (bits[i * bits_per_symbol + j] & 1)
        out[i] = v
    return out


@njit(cache=True, nogil=True)
def symbols_to_bits(labels, bits_per_symbol):
    """MSB-first labels -> bits (inverse of ``bits_to_symbols``)."""
    out = np.empty(labels.size * bits_per_symbol, np.uint8)
    for i in range(labels.size):
        for j in range(bits_per_symbol):
            out[i * bits_per_symbol + j] = (labels[i] >> (bits_per_symbol - 1 - j)) & 1
    return out


@njit(cache=True, nogil=True)
def gather_words(bits: np.ndarray, perm: np.ndarray, eta: int) -> np.ndarray:
    """Word i of block b = bits[b, perm[i eta .. i eta + eta - 1]], first bit MSB: bit
    interleaving and cell-word demultiplexing in one gather (A/322 6.2)."""
    b, n = bits.shape
    out = np.empty((b, n // eta), np.uint16)
    for r in range(b):
        for i in range(n // eta):
            w = 0
            for j in range(eta):
                w = (w << 1) | bits[r, perm[i * eta + j]]
            out[r, i] = w
    return out
