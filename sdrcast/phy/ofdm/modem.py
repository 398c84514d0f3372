"""The OFDM modem, batched over symbols (scipy.fft, single precision).

Grids are ``[n_sym, nfft]``; ``centred=True`` puts DC at column ``nfft // 2`` (lower columns
are negative frequencies), ``centred=False`` at column 0 (FFT order). The transforms are
unitary, so a grid of unit-power cells gives time samples of power (occupied / nfft);
``scale`` multiplies each symbol's time samples. Cyclic prefixes are one length or one per
symbol.
"""
from __future__ import annotations

import numpy as np
import scipy.fft


def to_time(grid: np.ndarray, centred: bool = True, scale=None, workers: int = 2) -> np.ndarray:
    """``grid[n_sym, nfft]`` -> time symbols ``[n_sym, nfft]`` complex64 (no prefix);
    ``workers``: FFT threads (1 when the caller already runs on the kernel pool)."""
    grid = np.atleast_2d(np.asarray(grid, np.complex64))
    if centred:
        grid = scipy.fft.ifftshift(grid, axes=1)
    t = scipy.fft.ifft(grid, axis=1, norm="ortho", workers=workers)
    if scale is not None:
        t *= np.asarray(scale, np.float32).reshape(-1, 1)
    return t


def add_prefix(symbols: np.ndarray, cp) -> np.ndarray:
    """Time symbols ``[n_sym, nfft]`` -> samples, each preceded by its last ``cp`` samples
    (``cp`` an int or one length per symbol, which may exceed ``nfft``: cyclic)."""
    n_sym, nfft = symbols.shape
    cps = np.broadcast_to(np.asarray(cp, np.int64), (n_sym,))
    if np.all(cps == cps[0]) and cps[0] <= nfft:
        c = int(cps[0])
        return np.concatenate([symbols[:, nfft - c:], symbols], axis=1).reshape(-1)
    return np.concatenate([np.concatenate([row[np.arange(-int(c), 0) % nfft], row])
                           for row, c in zip(symbols, cps, strict=True)])


def modulate(grid: np.ndarray, cp=0, centred: bool = True, scale=None, workers: int = 2) -> np.ndarray:
    """``grid[n_sym, nfft]`` -> complex64 samples with cyclic prefixes."""
    return add_prefix(to_time(grid, centred, scale, workers), cp)


def windows(samples: np.ndarray, nfft: int, cp, n_sym: int | None = None,
            fft_offset: int = 0) -> np.ndarray:
    """The ``[n_sym, nfft]`` FFT windows of symbols laid out as ``modulate`` lays them: each
    starts ``cp - fft_offset`` samples after its symbol's start (a positive ``fft_offset``
    moves it back into the prefix: robust to timing error, at the price of a linear phase
    ``2 pi k fft_offset / nfft`` across the bins)."""
    samples = np.asarray(samples)
    cps = np.asarray(cp, np.int64)
    if cps.ndim == 0:
        sym_len = nfft + int(cps)
        total = samples.size // sym_len if n_sym is None else n_sym
        start = int(cps) - fft_offset
        return samples[:total * sym_len].reshape(total, sym_len)[:, start:start + nfft]
    total = cps.size if n_sym is None else n_sym
    starts = np.concatenate([[0], np.cumsum(cps[:total - 1] + nfft)]) + cps[:total] - fft_offset
    return samples[starts[:, None] + np.arange(nfft)[None, :]]


def to_frequency(windows: np.ndarray, centred: bool = True) -> np.ndarray:
    """FFT windows ``[n_sym, nfft]`` -> grid (unitary), complex64."""
    f = scipy.fft.fft(np.asarray(windows, np.complex64), axis=1, norm="ortho", workers=2)
    return scipy.fft.fftshift(f, axes=1) if centred else f


def demodulate(samples: np.ndarray, nfft: int, cp, n_sym: int | None = None,
               fft_offset: int = 0, centred: bool = True) -> np.ndarray:
    """Samples -> grid ``[n_sym, nfft]`` (inverse of ``modulate``)."""
    return to_frequency(windows(samples, nfft, cp, n_sym, fft_offset), centred)
