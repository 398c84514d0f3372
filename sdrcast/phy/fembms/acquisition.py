"""FeMBMS cell search (3GPP TS 36.211 6.11): the PSS of the cell-acquisition subframe found by
correlation at 1.92 Msps (the 62 subcarriers around DC fit in a 128-point FFT), its cyclic
prefix giving the carrier offset modulo 15 kHz, then the SSS in the symbol before it (normal
or extended CP, whichever matches) giving N_ID^(1), so the PCI, the CP and the subframe
start. Used by ``sdrcast identify`` and, as its first stage, by the receiver."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from sdrcast.errors import SyncLost
from sdrcast.phy.fembms import signals
from sdrcast.phy.fembms.numerology import to_bins
from sdrcast.phy.kernels.mix import mix
from sdrcast.phy.ofdm import modem
from sdrcast.phy.sync import normalised_xcorr_shifted

RATE = 1.92e6
N = 128
CP = {"normal": (10, 9), "extended": (32, 32)}  # first and other prefixes at 1.92 Msps
PSS_THRESHOLD = 0.5  # normalised correlation of a clean PSS: 1; noise in 10 ms: < 0.25
SSS_THRESHOLD = 0.5  # best of 336 candidates in noise: about 0.43
STEP_HZ = 7.5e3


@dataclass(frozen=True)
class Cell:
    pci: int
    cp: str  # "normal" | "extended"
    subframe_start: int  # sample (input rate) where the CAS begins
    cfo_hz: float
    pss_quality: float
    sss_quality: float


@cache
def pss_time(nid2: int) -> np.ndarray:
    """The PSS of ``nid2`` as a 128-sample OFDM symbol at 1.92 Msps (no prefix)."""
    g = np.zeros(72, np.complex64)
    g[5:67] = signals.pss(nid2)
    return modem.to_time(to_bins(g, N))[0]


def decimate(x: np.ndarray, sample_rate: float) -> tuple[np.ndarray, int]:
    """``x`` at 1.92 Msps (low-pass, no delay) and the integer factor it was taken down by."""
    factor = round(sample_rate / RATE)
    if factor < 1 or abs(factor * RATE - sample_rate) > 1:
        raise SyncLost(f"sample rate {sample_rate:g}: FeMBMS needs a multiple of 1.92 Msps")
    if factor == 1:
        return np.asarray(x, np.complex64), 1
    from scipy.signal import resample_poly

    x = np.asarray(x, np.complex64)
    return resample_poly(x, 1, factor, window=_low_pass(factor)).astype(np.complex64), factor


@cache
def _low_pass(factor: int) -> np.ndarray:
    """``resample_poly``'s own anti-alias filter for ``factor``, designed once."""
    from scipy.signal import firwin

    return firwin(20 * factor + 1, 1 / factor, window=("kaiser", 5.0)).astype(np.float32)


def search(iq: np.ndarray, sample_rate: float, max_cfo_hz: float = 50e3, candidates: int = 6) -> Cell:
    """The strongest cell in ``iq`` (at least one CAS, 40 ms, to be sure of one). The PSS is
    searched at carrier offsets +-``max_cfo_hz`` in 7.5 kHz steps; the ``candidates`` best
    (offset, N_ID2, position) go on to the SSS, and the one whose SSS matches best wins (data
    on neighbouring subcarriers can out-correlate a PSS seen a few subcarriers off). The offset
    is refined from the PSS's cyclic prefix. Raises ``SyncLost`` when no PSS/SSS pair stands
    out."""
    x, factor = decimate(iq, sample_rate)
    if x.size < 3 * (N + 32):
        raise SyncLost(f"input of {np.size(iq)} samples is too short for a cell search")
    found = []
    steps = int(max_cfo_hz // STEP_HZ)  # the PSS stands 3.75 kHz off at worst
    shifts = np.arange(-steps, steps + 1)  # offsets in steps of RATE / 256 = 7.5 kHz
    corr = normalised_xcorr_shifted(x, [pss_time(nid2) for nid2 in range(3)], shifts, round(RATE / STEP_HZ))
    for s, by_nid2 in zip(shifts, corr, strict=True):
        for nid2, c in enumerate(by_nid2):
            peak = float(c.max())  # the first PSS nearly as strong as the strongest
            found.append((peak, int(np.flatnonzero(c >= 0.9 * peak)[0]), nid2, float(s * STEP_HZ)))
    found.sort(reverse=True)
    if found[0][0] < PSS_THRESHOLD:
        raise SyncLost(f"no LTE/FeMBMS PSS (best normalised correlation {found[0][0]:.2f})")
    best = max((_sss(x, *f) for f in found[:candidates] if f[0] >= PSS_THRESHOLD), key=lambda r: r[0])
    score, pci, cp, cfo, start, quality = best
    if score < SSS_THRESHOLD:
        raise SyncLost(f"a PSS found but no SSS matches (best {score:.2f})")
    return Cell(pci, cp, start * factor, cfo, quality, score)


def _sss(x: np.ndarray, quality: float, at: int, nid2: int, coarse: float) -> tuple:
    """The SSS before the PSS at ``at`` (1.92 Msps, offset ``coarse`` Hz), both CP lengths:
    (SSS score, PCI, CP, carrier offset, frame start, PSS quality)."""
    x = mix(x, 0.0, -coarse / RATE) if coarse else x
    out = (0.0, 0, "extended", coarse, 0, quality)
    for cp, (first, other) in CP.items():
        sym = N + other
        sss_at = at - sym
        if sss_at < 0 or at + N > x.size:
            continue
        cfo = float(np.angle(np.vdot(x[at - other:at], x[at + N - other:at + N]))) * RATE / (2 * np.pi * N)
        y = mix(x[sss_at:at + N], 0.0, -cfo / RATE)
        pss_f = np.fft.fftshift(np.fft.fft(y[sym:sym + N]))[N // 2 - 31:N // 2 + 32]
        sss_f = np.fft.fftshift(np.fft.fft(y[:N]))[N // 2 - 31:N // 2 + 32]
        pss_f, sss_f = np.delete(pss_f, 31), np.delete(sss_f, 31)
        h = pss_f / signals.pss(nid2)
        eq = sss_f * np.conj(h) / np.maximum(np.abs(h), 1e-9)
        scores = np.abs(_sss_table(nid2) @ eq) / (np.linalg.norm(eq) * np.sqrt(62) + 1e-12)
        k = int(np.argmax(scores))
        if scores[k] > out[0]:
            start = at - other - (6 if cp == "normal" else 5) * sym - (first - other)
            start -= 5 * 1920 if k >= 168 else 0  # the SSS of subframe 5: the frame began 5 ms before
            out = (float(scores[k]), 3 * (k % 168) + nid2, cp, coarse + cfo, start, quality)
    return out


@cache
def _sss_table(nid2: int) -> np.ndarray:
    """The 336 SSS a PSS of ``nid2`` can go with (subframe 0, then subframe 5)."""
    return np.array([signals.sss(3 * nid1 + nid2, sf) for sf in (0, 5) for nid1 in range(168)])


DETECT_S = 0.2  # signal a detection searches: five CAS (the search's memory grows with it)


def detect(iq: np.ndarray, sample_rate: float) -> dict | None:
    """What FeMBMS/LTE cell the first ``DETECT_S`` of ``iq`` carry, for ``sdrcast identify``
    and the monitoring station (None: none)."""
    try:
        c = search(iq[:int(DETECT_S * sample_rate)], sample_rate)
    except SyncLost:
        return None
    return {"standard": "fembms", "pci": c.pci, "cp": c.cp, "start": c.subframe_start,
            "cfo_hz": round(c.cfo_hz, 1), "pss_quality": round(c.pss_quality, 3),
            "sss_quality": round(c.sss_quality, 3)}
