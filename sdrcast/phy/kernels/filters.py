"""Pulse shaping and streaming rational resampling."""
import numpy as np
import scipy.signal
from numba import njit


def srrc_taps(rolloff, sps, span):
    """Square-root raised-cosine taps: ``sps`` samples per symbol, ``span`` symbols, unit energy."""
    n = np.arange(-span * sps / 2, span * sps / 2 + 1) / sps
    b = rolloff
    h = np.empty(n.size)
    for i, t in enumerate(n):
        if abs(t) < 1e-12:
            h[i] = 1 - b + 4 * b / np.pi
        elif b > 0 and abs(abs(4 * b * t) - 1) < 1e-9:
            h[i] = b / np.sqrt(2) * ((1 + 2 / np.pi) * np.sin(np.pi / (4 * b))
                                     + (1 - 2 / np.pi) * np.cos(np.pi / (4 * b)))
        else:
            h[i] = (np.sin(np.pi * t * (1 - b)) + 4 * b * t * np.cos(np.pi * t * (1 + b))) / \
                (np.pi * t * (1 - (4 * b * t) ** 2))
    return (h / np.sqrt(np.sum(h ** 2))).astype(np.float32)


def resampler_taps(up, down, half_len=16, beta=8.0):
    """Kaiser-windowed low-pass for ``up/down`` resampling (cutoff at the narrower Nyquist)."""
    g = max(up, down)
    if g == 1:
        return np.ones(1, np.float32)
    n = 2 * half_len * g + 1
    return (scipy.signal.firwin(n, 1.0 / g, window=("kaiser", beta)) * up).astype(np.float32)


@njit(cache=True, nogil=True)
def resample_poly(x, history, taps, up, down, t_next):
    """Streaming polyphase resampling by ``up/down``.

    ``x`` are new input samples, ``history`` the last ``ceil(len(taps)/up)`` inputs before them
    (zeros at the start of a stream). Output ``n`` sits at up-rate time ``t`` (a multiple of
    ``down``) and is ``sum_j taps[t % up + j up] * input[t // up - j]``. ``t_next`` is the time of
    the next output relative to ``x[0]``. Returns ``(y, t_next for the next call)``.
    """
    h = history.size
    ntaps = taps.size
    n_out = 0
    t = t_next
    limit = x.size * up
    if t < limit:
        n_out = (limit - 1 - t) // down + 1
    y = np.empty(n_out, np.complex64)
    for k in range(n_out):
        base = t // up
        phase = t - base * up
        acc = 0j
        j = 0
        tap = phase
        while tap < ntaps:
            idx = base - j
            if idx >= 0:
                acc += taps[tap] * x[idx]
            elif h + idx >= 0:
                acc += taps[tap] * history[h + idx]
            j += 1
            tap += up
        y[k] = acc
        t += down
    return y, t - limit
