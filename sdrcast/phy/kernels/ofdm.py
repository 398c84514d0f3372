"""OFDM modulation/demodulation for any FFT size and cyclic prefix, batched over symbols (scipy.fft).

Grids are *centred*: column ``nfft // 2`` is DC, lower columns are negative frequencies. The
transforms are unitary (``norm="ortho"``), so a grid of unit-power cells gives time samples of
power (occupied / nfft).
"""
import numpy as np
import scipy.fft


def ofdm_modulate(grid, cp_len):
    """``grid[n_sym, nfft]`` -> complex64 samples; ``cp_len`` an int or one length per symbol."""
    grid = np.atleast_2d(grid)
    n_sym, nfft = grid.shape
    t = scipy.fft.ifft(scipy.fft.ifftshift(grid.astype(np.complex64, copy=False), axes=1),
                       axis=1, norm="ortho")
    cps = np.broadcast_to(np.asarray(cp_len, np.int64), (n_sym,))
    if np.all(cps == cps[0]):
        cp = int(cps[0])
        return np.concatenate([t[:, nfft - cp:], t], axis=1).reshape(-1).astype(np.complex64)
    out = np.empty(int(cps.sum()) + n_sym * nfft, np.complex64)
    pos = 0
    for i in range(n_sym):
        cp = int(cps[i])
        out[pos:pos + cp] = t[i, nfft - cp:]
        out[pos + cp:pos + cp + nfft] = t[i]
        pos += cp + nfft
    return out


def ofdm_demodulate(samples, nfft, cp_len, n_sym=None, fft_offset=0):
    """Samples -> centred grid ``[n_sym, nfft]`` (complex64).

    Each symbol's FFT window starts ``cp_len - fft_offset`` samples after its start: a positive
    ``fft_offset`` moves the window back into the cyclic prefix (robust to timing error; it adds a
    linear phase of ``2 pi k fft_offset / nfft`` that the channel estimate absorbs).
    """
    samples = np.asarray(samples)
    cps = np.asarray(cp_len, np.int64)
    if cps.ndim == 0:
        sym_len = nfft + int(cps)
        total = samples.size // sym_len if n_sym is None else n_sym
        blk = samples[:total * sym_len].reshape(total, sym_len)
        start = int(cps) - fft_offset
        win = blk[:, start:start + nfft]
    else:
        total = cps.size if n_sym is None else n_sym
        starts = np.concatenate([[0], np.cumsum(cps[:total - 1] + nfft)]) + cps[:total] - fft_offset
        win = samples[starts[:, None] + np.arange(nfft)[None, :]]
    f = scipy.fft.fft(win.astype(np.complex64, copy=False), axis=1, norm="ortho")
    return scipy.fft.fftshift(f, axes=1).astype(np.complex64)
