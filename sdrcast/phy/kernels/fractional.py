"""Fractional resampling by a windowed-sinc table (the channel emulator's clock offset)."""
import numpy as np
from numba import njit


@njit(cache=True, nogil=True, fastmath=True)
def fractional_interpolate(x_ext, x0, t_next, step, table, half, n_avail):
    """Interpolate at times t_next, t_next + step, ... (input-sample units, ``x_ext[0]`` at
    absolute index ``x0``) while the window fits in the ``n_avail`` samples seen; the fractional
    delay is interpolated linearly between the table's phases."""
    n_max = int((x0 + n_avail - t_next) / step) + 2
    out = np.empty(max(n_max, 0), np.complex64)
    phases = table.shape[0] - 1
    t = t_next
    k = 0
    while k < out.size:
        base = int(np.floor(t))
        if base + half >= x0 + n_avail:
            break
        pf = (t - base) * phases
        p = int(pf)
        a = np.float32(pf - p)
        if p >= phases:
            p = phases - 1
            a = np.float32(1.0)
        sr = np.float32(0)
        si = np.float32(0)
        j0 = base - half + 1 - x0
        for c in range(2 * half):
            idx = j0 + c
            if 0 <= idx < x_ext.size:
                w = table[p, c] * (1 - a) + table[p + 1, c] * a
                v = x_ext[idx]
                sr += w * v.real
                si += w * v.imag
        out[k] = np.complex64(sr + 1j * si)
        k += 1
        t += step
    return out[:k], t
