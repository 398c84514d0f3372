"""ATSC 3.0 acquisition from the A/321 bootstrap: where a frame starts and the carrier offset.

1. Every bootstrap symbol repeats the last N_C samples of its A part (C), 2048 samples at
   6.144 Msps earlier. A sliding correlation at that lag peaks on each symbol's C whatever
   the carrier offset, and its phase gives the offset modulo the 3 kHz carrier spacing.
2. At the peak and at the three positions where symbol 0 would start if the peak were symbol
   1, 2 or 3, the signal is corrected by each candidate offset (the fine estimate plus whole
   carrier spacings up to ``max_cfo_hz``) and cross-correlated with symbol 0 (Zadoff-Chu/PN,
   unshifted, the same for every signalling). The best match gives the frame start to the
   sample and the whole offset.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from sdrcast.errors import SyncLost
from sdrcast.phy.atsc3.bootstrap import N_B, N_C, N_FFT, SAMPLE_RATE, SYMBOL_SAMPLES, BootstrapFields
from sdrcast.phy.atsc3.bootstrap import native as native_bootstrap
from sdrcast.phy.kernels.mix import mix
from sdrcast.phy.sync import (
    cfo_from_phase,
    normalised_xcorr,
    normalised_xcorr_shifted,
    repetition_correlation,
)


@dataclass(frozen=True)
class Acquisition:
    start: int  # sample of the bootstrap's first sample
    cfo_hz: float
    quality: float  # normalised correlation with symbol 0 (1 = perfect)


def acquire(x: np.ndarray, sample_rate: float, max_cfo_hz: float = 50e3,
            search: int = 48, window: int = 1 << 19) -> Acquisition:
    """The first bootstrap in ``x``: looked for in the first ``window`` samples, then in twice
    as many, and so on (long captures are not scanned whole)."""
    x = np.asarray(x, np.complex64)
    r = sample_rate / SAMPLE_RATE
    sym = round(SYMBOL_SAMPLES * r)
    need = 4 * sym + round(N_FFT * r)
    if x.size < need:
        raise SyncLost(f"{x.size} samples: acquisition needs at least one bootstrap "
                          f"({4 * sym} samples at {sample_rate / 1e6:g} Msps)")
    best = None
    while True:
        seg = x[:window + need]
        found = _candidate(seg, sample_rate, max_cfo_hz, search)
        if found is not None and (best is None or found.quality > best.quality):
            best = found
        if (best is not None and best.quality >= 0.3) or seg.size == x.size:
            break
        window *= 2
    if best is None or best.quality < 0.3:
        raise SyncLost(f"no ATSC 3.0 bootstrap found (best match "
                          f"{0.0 if best is None else best.quality:.2f})")
    return best


def _candidate(x: np.ndarray, sample_rate: float, max_cfo_hz: float,
               search: int) -> Acquisition | None:
    r = sample_rate / SAMPLE_RATE
    lag, width = round(N_FFT * r), round(N_C * r)
    sym = round(SYMBOL_SAMPLES * r)
    p, metric = repetition_correlation(x, lag, width)
    if metric.max() < 0.2:  # nothing periodic at the bootstrap's lag here
        return None
    first = int(np.argmax(metric > 0.7 * metric.max()))  # the first bootstrap, not the best
    peak = first + int(np.argmax(metric[first:first + sym]))
    spacing = sample_rate / lag  # one bootstrap carrier
    fine = cfo_from_phase(float(np.angle(p[peak])), lag, sample_rate)
    template = _symbol0(sample_rate)
    c_offsets = [0] + [round((k * SYMBOL_SAMPLES + N_B) * r) for k in (1, 2, 3)]
    best = (0.0, 0, 0.0)
    n_k = int(max_cfo_hz // spacing) + 1
    ks = np.arange(-n_k, n_k + 1)
    for c_off in c_offsets:
        start = peak - c_off
        if start < 0 or start + sym > x.size:
            continue
        lo = max(start - search, 0)
        seg = mix(np.ascontiguousarray(x[lo:start + search + sym]), 0.0, -fine / sample_rate)
        # every whole-carrier offset at once: one transform, its spectrum rolled per carrier
        q = normalised_xcorr_shifted(seg, [template], ks, lag)[:, 0]
        k, i = np.unravel_index(int(np.argmax(q)), q.shape)
        if q[k, i] > best[0]:
            best = (float(q[k, i]), lo + int(i), fine + int(ks[k]) * spacing)
    return Acquisition(best[1], best[2], best[0])


def detect(iq: np.ndarray, sample_rate: float) -> dict | None:
    """What ATSC 3.0 signal ``iq`` carries, for ``sdrcast identify``: the first frame's start
    and carrier offset, the bootstrap's fields and the configuration read from L1-Basic and
    L1-Detail; None when there is no bootstrap (or ``sample_rate`` is not an ATSC 3.0
    baseband rate, (N + 16) x 0.384 MHz)."""
    from sdrcast.errors import SdrcastError
    from sdrcast.phy.atsc3.demodulator import read_configuration
    from sdrcast.phy.atsc3.ofdm import is_atsc3_rate

    if not is_atsc3_rate(sample_rate):
        return None
    try:
        acq = acquire(iq, sample_rate)
    except SyncLost:
        return None
    y = mix(np.asarray(iq[acq.start:], np.complex64), 0.0, -acq.cfo_hz / sample_rate)
    out = {"standard": "atsc3", "start": acq.start, "cfo_hz": round(acq.cfo_hz, 1),
           "quality": round(acq.quality, 3)}
    try:
        cfg = read_configuration(y, sample_rate)
    except SdrcastError as exc:  # a bootstrap, but L1 does not decode (too weak, cut off)
        return {**out, "configuration": None, "l1": str(exc)}
    return {**out, "configuration": {
        "subframes": [{"fft": s.fft_size, "guard_interval": s.guard_interval,
                       "pilots": s.scattered_pilot_pattern, "symbols": s.num_ofdm_symbols,
                       "plps": [f"{p.plp_id}: {p.modulation} {p.code_rate} {p.ldpc_length}"
                                for p in s.plps]} for s in cfg.subframes]}}


@dataclass(frozen=True)
class Track:
    start: float  # the bootstrap's first sample, to a fraction of a sample, from x[0]
    quality: float
    residual_hz: float  # carrier offset left after the one taken out


@lru_cache(maxsize=8)
def _symbol0(sample_rate: float) -> np.ndarray:
    sym = round(SYMBOL_SAMPLES * sample_rate / SAMPLE_RATE)
    return native_bootstrap(BootstrapFields(), sample_rate)[:sym]


def track(x: np.ndarray, sample_rate: float, cfo_hz: float, search: int) -> Track:
    """A bootstrap expected ``search`` samples into ``x`` (``x`` runs on to its end, four
    symbols later), the carrier offset ``cfo_hz`` already known: its start to a fraction of a
    sample (the peak of the correlation with symbol 0, interpolated by a parabola), the match
    (1 = perfect) and the residual carrier offset from the phase across every symbol's
    repeated C part (within a quarter of the 3 kHz bootstrap carrier spacing)."""
    r = sample_rate / SAMPLE_RATE
    lag, width, sym = round(N_FFT * r), round(N_C * r), round(SYMBOL_SAMPLES * r)
    template = _symbol0(sample_rate)
    if x.size < 2 * search + 4 * sym:
        raise SyncLost(f"{x.size} samples: tracking needs {2 * search + 4 * sym}")
    y = mix(np.ascontiguousarray(x[:2 * search + 4 * sym], np.complex64), 0.0, -cfo_hz / sample_rate)
    q = normalised_xcorr(y[:2 * search + sym], template)
    i = int(np.argmax(q))
    frac = 0.0
    if 0 < i < q.size - 1:
        a, b, c = q[i - 1], q[i], q[i + 1]
        d = a - 2 * b + c
        frac = float(0.5 * (a - c) / d) if d < 0 else 0.0
    p = 0j
    for c_at in [0] + [round((k * SYMBOL_SAMPLES + N_B) * r) for k in (1, 2, 3)]:
        c0 = i + c_at
        p += np.vdot(y[c0:c0 + width], y[c0 + lag:c0 + lag + width])
    residual = float(np.angle(p)) * sample_rate / (2 * np.pi * lag)
    return Track(i + frac, float(q[i]), residual)
