"""Channel estimation from known pilots on an OFDM grid, with the noise variance per carrier
for the demapper."""
from __future__ import annotations

import numpy as np


def equalise_from_pilots(x: np.ndarray, amp: np.ndarray,
                         smooth: int = 5) -> tuple[np.ndarray, np.ndarray, float]:
    """One symbol's carriers -> (equalised carriers, noise variance per carrier, noise
    variance at unit channel gain). The channel is measured on the symbol's pilots
    (``amp`` != 0), averaged over ``smooth`` neighbouring pilots (noise down, while the channel
    varies little over that span: 5 scattered pilots of SP6_2 cover 50 kHz at 6 MHz), and
    interpolated linearly between them; the noise comes from each pilot's distance to the mean
    of its neighbours. Delay spreads up to N / (pilot spacing) samples. ATSC 3.0's scattered,
    continual and preamble pilots use it per symbol; interpolation across symbols (mobile
    reception, LTE's MBSFN reference signals) is to join it here."""
    k = np.flatnonzero(amp)
    h_p = x[k] / amp[k]
    w = np.ones(min(smooth, h_p.size)) / min(smooth, h_p.size)
    norm = np.convolve(np.ones(h_p.size), w, "same")
    h_s = np.convolve(h_p, w, "same") / norm
    grid = np.arange(x.size)
    h = np.interp(grid, k, h_s.real) + 1j * np.interp(grid, k, h_s.imag)
    d = h_p[1:-1] - (h_p[:-2] + h_p[2:]) / 2  # white noise: E|d|^2 = 1.5 nv / |amp|^2
    nv = float(np.mean(np.abs(d) ** 2 * np.abs(amp[k[1:-1]]) ** 2) / 1.5) if d.size else 1e-4
    gain = np.maximum(np.abs(h) ** 2, 1e-12)
    return (x / h).astype(np.complex64), (nv / gain).astype(np.float64), max(nv, 1e-6)
