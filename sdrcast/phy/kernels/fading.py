"""Time-varying tapped-delay-line filtering (the channel emulator's fading)."""
import numpy as np
from numba import njit


@njit(cache=True, nogil=True, fastmath=True)
def tdl_filter(x_ext, hist, grid, g0, update, pos0, coef, off):
    """Tapped delay line with time-varying gains: taps ``k`` of fractional-delay FIR ``coef[k]``
    at integer offset ``off[k]``, gains linearly interpolated on ``grid`` (updated every
    ``update`` samples, ``g0`` its first row); ``x_ext`` is ``hist`` samples of history then
    the input, ``pos0`` the absolute index of the first input sample."""
    n = x_ext.size - hist
    ntaps, ncoef = coef.shape
    y = np.empty(n, np.complex64)
    for i in range(n):
        p = pos0 + i
        gi = p // update - g0
        fr = np.float32((p % update) / update)
        acc = np.complex64(0)
        for k in range(ntaps):
            h = grid[gi, k] * (1 - fr) + grid[gi + 1, k] * fr
            sr = np.float32(0)
            si = np.float32(0)
            base = hist + i - off[k]
            for c in range(ncoef):
                v = x_ext[base - c]
                sr += coef[k, c] * v.real
                si += coef[k, c] * v.imag
            acc += h * np.complex64(sr + 1j * si)
        y[i] = acc
    return y
