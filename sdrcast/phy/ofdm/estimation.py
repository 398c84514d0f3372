"""Channel estimation from known pilots on an OFDM grid, with the noise variance per cell for
the demapper: the pilots are joined in time (``kernels.estimation``), then interpolated across
the carriers of each symbol by a Wiener filter built for echoes anywhere in a delay window
(Edfors et al.'s robust design: flat delay profile over the window, the SNR measured)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from sdrcast.errors import ConfigError
from sdrcast.phy.kernels.estimation import (
    apply_taps,
    divide_out,
    interpolate_in_time,
    noise_across_carriers,
    pilot_estimates,
)

TAPS = 12  # pilots per interpolated carrier


@lru_cache(maxsize=64)
def wiener_taps(spacing: int, nfft: int, lo: float, hi: float, noise_db: float) -> np.ndarray:
    """``W[o + spacing - 1, i]``: the weight of the ``i``-th of ``TAPS`` pilots ``spacing``
    carriers apart for a carrier ``o`` carriers above the first of them, for channels with
    echoes uniformly anywhere from ``lo`` to ``hi`` samples and pilot noise ``noise_db``
    below the channel's power."""
    def corr(dk):
        return np.exp(-1j * np.pi * dk * (lo + hi) / nfft) * np.sinc(dk * (hi - lo) / nfft)

    i = np.arange(TAPS)
    r_pp = corr((i[:, None] - i[None, :]) * spacing) + 10 ** (noise_db / 10) * np.eye(TAPS)
    offsets = np.arange(-(spacing - 1), spacing * TAPS)
    r_hp = corr(offsets[:, None] - spacing * i[None, :])
    return np.linalg.solve(r_pp.T, r_hp.T).T.astype(np.complex64)


def _lattices(valid: np.ndarray, spacing: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each symbol's pilot lattice (every ``spacing``-th carrier from the offset most of its
    valid carriers are on): (offset, fraction of the lattice valid, lattice size) per symbol."""
    n_sym, n = valid.shape
    per_offset = np.stack([valid[:, r::spacing].sum(axis=1) for r in range(spacing)], axis=1)
    first = np.argmax(per_offset, axis=1)
    size = -(-(n - first) // spacing)
    return first, per_offset[np.arange(n_sym), first] / size, size


def _occupied_delays(ht: np.ndarray, lattices: tuple, spacing: int, lo: float, hi: float,
                     nfft: int) -> tuple[float, float]:
    """The part of the delay window ``lo..hi`` the channel occupies: the delays where the
    power-delay profile, measured on the pilot lattice of every symbol that has it whole
    (Hann-windowed against the band edges' leakage), stands 20 dB above its floor or within
    30 dB of its peak, widened by two resolution cells; the whole window if no symbol has it.
    Filtering to the echoes actually there is what lets a Wiener filter take the noise out of
    the rest."""
    first, covered, size = lattices
    whole = covered == 1
    m = int(size[whole].min()) if whole.any() else 0
    if m < 16:
        return lo, hi
    rows = np.flatnonzero(whole)
    h_l = ht[rows[:, None], first[rows, None] + spacing * np.arange(m)]
    pdp = np.mean(np.abs(np.fft.ifft(h_l * np.hanning(m), axis=1)) ** 2, axis=0)
    cell = nfft / (spacing * m)  # samples per delay bin
    delay = (np.arange(m) * cell - lo) % (m * cell) + lo  # unambiguous over N / spacing
    inside = (delay >= lo) & (delay <= hi)
    floor = np.median(pdp[~inside]) if (~inside).any() else 0.0
    strong = inside & (pdp > max(100 * floor, pdp[inside].max() * 1e-3))
    if not strong.any():
        return lo, hi
    return (max(lo, float(delay[strong].min()) - 2 * cell), min(hi, float(delay[strong].max()) + 2 * cell))


def _pilot_period(pilot: np.ndarray) -> int:
    """In how many symbols the scattered pilots come back to the same carriers (Dy): the
    smallest lag at which most pilot carriers repeat."""
    for lag in range(1, pilot.shape[0]):
        if np.sum(pilot[lag:] & pilot[:-lag]) > 0.8 * np.sum(pilot[lag:]):
            return lag
    return 1


def _linear(at: np.ndarray, k: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.interp(at, k, values.real) + 1j * np.interp(at, k, values.imag)


def _across_carriers(ht: np.ndarray, valid: np.ndarray, spacing: int, lattices: tuple,
                     taps: np.ndarray | None) -> np.ndarray:
    """Each symbol's channel at its valid carriers -> at every carrier: Wiener-filtered from
    the lattice of every ``spacing``-th carrier when the pilots cover it (symbols sharing a
    lattice filtered together), else linearly."""
    n_sym, n = ht.shape
    carriers = np.arange(n)
    est = np.empty_like(ht)
    firsts, covered, size = lattices
    wiener = (taps is not None) & (size >= TAPS) & (covered >= 0.9)
    for j in np.flatnonzero(~wiener):
        k = np.flatnonzero(valid[j])
        est[j] = _linear(carriers, k, ht[j, k])
    for first in np.unique(firsts[wiener]):
        rows = np.flatnonzero(wiener & (firsts == first))
        lattice = np.arange(first, n, spacing)
        h_l = ht[rows][:, lattice]  # exact on the lattice's pilots; the few it lacks filled in
        for r in np.flatnonzero(covered[rows] < 1):
            j = rows[r]
            h_l[r] = _linear(lattice, np.flatnonzero(valid[j]), ht[j, valid[j]])
        start = np.clip((carriers - first) // spacing - TAPS // 2 + 1, 0, lattice.size - TAPS)
        w = taps[carriers - first - spacing * start + spacing - 1]
        est[rows] = apply_taps(h_l.astype(np.complex64), w, start)
    return est


def equalise(grid: np.ndarray, amp: np.ndarray, max_gap: int = 4, spacing: int | None = None,
             delays: tuple[float, float, int] | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """Received carriers ``grid[n_sym, K]`` (of an ``N``-point FFT, ``N`` >= K) and the pilots
    sent (``amp``, 0 off the pilots) -> (equalised grid, noise variance per cell, noise
    variance against the channel's mean power: 1 / SNR, whatever the received level).

    The channel is measured on every pilot and interpolated in time between a carrier's
    pilots at most ``max_gap`` symbols apart (the scattered pattern's Dy; the Doppler must
    stay well below 1 / (2 Dy T_symbol)). Across the carriers, the pilots every ``spacing``
    carriers (Dx) are Wiener-filtered for echoes from ``lo`` to ``hi`` samples of an ``N``-point
    FFT (``delays = (lo, hi, N)``, at most N / Dx wide), so echoes up to N / Dx are
    followed, not N / (Dx Dy), and the noise is filtered out of the rest of the delay range;
    without them, linearly. When the echoes measured fit what one symbol's pilots resolve
    (within 80 % of N / (Dx Dy)), each symbol is estimated from its own pilots alone, which
    no Doppler limits. Noise comes from each pilot's distance to its neighbours in time
    (in frequency where no carrier repeats), so a long echo is not mistaken for noise. The
    phase common to all carriers of a symbol (a residual carrier offset, phase noise) is
    measured on the pilots consecutive symbols share and taken out before the interpolation
    in time, then put back."""
    grid = np.ascontiguousarray(grid, np.complex64)
    amp = np.ascontiguousarray(amp, np.complex64)
    h, w, turn = pilot_estimates(grid, amp)
    pilot = w > 0
    phase = np.exp(1j * np.concatenate([[0.0], np.cumsum(np.angle(turn))])).astype(np.complex64)[:, None]
    ht, valid, nv, count = interpolate_in_time(h * np.conj(phase), w, max_gap)
    ht *= phase
    nv_f, count_f = noise_across_carriers(h, w)
    own = pilot.any(axis=1).all()  # every symbol has pilots of its own
    if own and count_f and (count < 8 or nv_f < nv):  # the channel moves faster in time than in frequency
        nv, count, ht, valid, max_gap = nv_f, count_f, h, pilot, 0
    elif not count and count_f:  # no carrier's pilots close enough in time: the noise across carriers
        nv, count = nv_f, count_f
    power = float(np.mean(np.abs(ht[valid]) ** 2)) or 1.0  # the channel's, at the pilots
    nv = max(nv, 1e-6 * power) if count else 1e-4 * power  # floors against the received level
    empty = ~valid.any(axis=1)
    if empty.any():
        raise ConfigError(f"symbol {int(np.argmax(empty))} of the grid has no pilot within "
                          f"max_gap={max_gap} symbols")
    taps = None
    if spacing and delays and not max_gap:  # every symbol on its own pilots: Dx Dy apart
        spacing *= _pilot_period(pilot)
    lattices = _lattices(valid, spacing or 1)
    if spacing and delays:
        n = delays[2]
        lo, hi = delays[0], min(delays[1], delays[0] + 0.95 * n / spacing)
        noise_db = max(round(10 * np.log10(nv * float(np.mean(w[pilot])) / power)), -30)
        lo, hi = _occupied_delays(ht, lattices, spacing, lo, hi, n)
        taps = wiener_taps(spacing, int(n), lo, hi, noise_db)
    est = _across_carriers(ht, valid, spacing or 1, lattices, taps)
    eq, var = divide_out(grid, est, np.float32(nv))
    # the noise against the channel's mean power, not against unit gain: a capture at -15 dBFS
    # (or any radio's gain) read 15 dB too good as an MER
    return eq, var, nv / max(float(np.mean(np.abs(est) ** 2)), 1e-12)


def delay_profile(grid: np.ndarray, amp: np.ndarray, n_fft: int, rate: float,
                  oversample: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The channel's power-delay profile (the echo profile a monitor shows) from the pilots
    of consecutive symbols ``grid[n_sym, K]`` (``amp``: the pilots sent, 0 elsewhere) of an
    ``n_fft``-point OFDM symbol at ``rate`` samples/s -> (delay in seconds, power against the
    strongest path). The carriers with a pilot in any symbol form a comb of spacing D (pilots
    off the comb, such as continual ones, are left out); its Hann-windowed transform shows
    echoes unambiguously over n_fft / D samples, from an
    eighth of that before the strongest path (``oversample`` points per sample)."""
    on = np.abs(amp) > 0
    count = on.sum(axis=0)
    k = np.flatnonzero(count)
    if k.size < 8:
        raise ConfigError(f"delay_profile: {k.size} carriers with a pilot; at least 8 needed")
    h = np.where(on, grid / np.where(on, amp, 1), 0).sum(axis=0)
    d = int(np.bincount(np.diff(k)).argmax())  # the scattered pilots' comb (continual ones off it)
    k = k[k % d == np.bincount(k % d).argmax()]
    h = h[k] / count[k]
    m = (k - k[0]) // d
    span = n_fft // d  # samples shown without aliasing
    size = 1 << int(np.ceil(np.log2(max(m[-1] + 1, span * oversample))))
    comb = np.zeros(size, np.complex128)
    comb[m] = h * np.hanning(m[-1] + 3)[1:-1][m]
    p = np.abs(np.fft.ifft(comb)) ** 2  # point i: delay i * n_fft / (d * size) samples
    p = np.roll(p, -int(np.argmax(p)) + size // 8)
    delays = (np.arange(size) - size // 8) * n_fft / (d * size) / rate
    return delays, (p / max(p.max(), 1e-30)).astype(np.float32)
