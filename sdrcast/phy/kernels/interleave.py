"""Generic interleavers: permutations (block interleavers) and the convolutional (Forney) one."""
import numpy as np
from numba import njit


def block_permutation(rows, cols):
    """Write row by row into ``rows x cols``, read column by column: ``out[i] = in[perm[i]]``."""
    return np.arange(rows * cols, dtype=np.int64).reshape(rows, cols).T.reshape(-1)


def inverse_permutation(perm):
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size, dtype=perm.dtype)
    return inv


@njit(cache=True, nogil=True)
def permute(x, perm):
    """``out[..., i] = x[..., perm[i]]`` along the last axis for 1-D or 2-D ``x``."""
    if x.ndim == 1:
        return x[perm]
    out = np.empty_like(x)
    for r in range(x.shape[0]):
        out[r] = x[r][perm]
    return out


@njit(cache=True, nogil=True)
def convolutional_interleave(x, delays, memory, offsets, pointers, branch):
    """Forney convolutional interleaver, streaming.

    Items go to branches 0..B-1 in turn; branch ``b`` is a FIFO of ``delays[b]`` items (0 = pass
    through). ``memory`` holds all FIFOs back to back (``offsets[b]`` is where branch ``b``
    starts), ``pointers[b]`` its read/write position; both are updated in place. ``branch`` is
    the branch of ``x[0]``. Returns ``(y, branch for the next item)``.
    """
    nb = delays.size
    y = np.empty_like(x)
    for i in range(x.size):
        d = delays[branch]
        if d == 0:
            y[i] = x[i]
        else:
            pos = offsets[branch] + pointers[branch]
            y[i] = memory[pos]
            memory[pos] = x[i]
            pointers[branch] += 1
            if pointers[branch] == d:
                pointers[branch] = 0
        branch += 1
        if branch == nb:
            branch = 0
    return y, branch


@njit(cache=True, nogil=True)
def scatter_add(values, positions, size):
    """``out[positions[i]] += values[i]`` into ``size`` float32 zeros (soft combining of
    repeated bits)."""
    out = np.zeros(size, np.float32)
    for i in range(positions.size):
        out[positions[i]] += values[i]
    return out
