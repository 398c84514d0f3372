"""Removing known echoes: a reference (e.g. a DTMB PN header) through channel taps, subtracted."""
from numba import njit


@njit(cache=True, nogil=True)
def subtract_echoes(z, z0, ref, ref0, taps, precursor):
    """z[i] -= sum_d taps[d] ref[z0 + i - ref0 - (d - precursor)]: the echoes of a header that starts at
    frame index ``ref0``, for a segment ``z`` starting at frame index ``z0`` (in place)."""
    for j in range(taps.size):
        t = taps[j]
        if t == 0:
            continue
        delay = j - precursor
        # ref index m = z0 + i - ref0 - delay must lie in [0, ref.size)
        lo = max(0, ref0 + delay - z0)
        hi = min(z.size, ref0 + delay - z0 + ref.size)
        for i in range(lo, hi):
            z[i] -= t * ref[z0 + i - ref0 - delay]
