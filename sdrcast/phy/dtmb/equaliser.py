"""TDS-OFDM channel estimation and equalisation for DTMB frames (GB 20600-2006 4.5, 4.6).

A frame is a known PN header followed by a 3780-symbol body, with no cyclic prefix: the header
is the guard. Per frame:

* **Channel impulse response from the header.** PN420 and PN945 headers are cyclically extended
  m-sequences (period 255 / 511), so one whole period read after the longest echo is a circular
  convolution of the sequence with the channel: a circular correlation gives the taps (sidelobes
  -1/N). PN595 is not periodic: a least-squares fit over the header, with the pseudo-inverse
  computed once. Taps cover delays ``-PRECURSOR .. max_delay`` samples (PN420 19 us, PN595
  20 us, PN945 55 us at 7.56 Msps). The noise floor per tap comes from the median tap power;
  the receiver keeps the taps of a support it tracks over frames (``Cir.keep``).
* **Header removal and cyclic reconstruction.** The taps of the header before and the header
  after the body (each from its own estimate) reproduce the known headers' echoes, which are
  subtracted; the body's own echo tail that fell into the next header is then folded back onto
  its start (overlap-add), which makes the body a circular convolution with the channel.
* **Frequency-domain equalisation** with the mean of the two headers' channels (the channel at
  mid-body): C=3780 one tap per carrier with per-carrier noise variance; C=1 an MMSE
  single-carrier FDE, unbiased, with its post-equaliser noise variance.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from sdrcast.phy.dtmb import stages, tables
from sdrcast.phy.dtmb.config import BODY_SYMBOLS, DtmbConfig
from sdrcast.phy.kernels.echo import subtract_echoes
from sdrcast.phy.ofdm import modem

PRECURSOR = 20  # samples of echo before the main path the estimate allows
_PERIOD = {"pn420": 255, "pn945": 511}
_MAX_DELAY = {"pn420": 165 - PRECURSOR, "pn945": 434 - PRECURSOR, "pn595": 150}
_NOISE_FACTOR = 10.0  # taps kept: power above 10x the noise floor per tap


@dataclass
class Cir:
    """Channel taps for delays ``-PRECURSOR .. max_delay`` (index 0 is delay -PRECURSOR), the
    noise variance per received sample, the noise power per tap estimate (``tap_floor``) and
    the strongest tap over it. Raw from ``estimate_cir``; ``keep`` zeroes taps outside a
    support (by default the taps 10 dB over the floor)."""

    taps: np.ndarray
    noise_var: float
    tap_floor: float
    peak_to_floor: float

    @property
    def snr_db(self) -> float:
        return float(10 * np.log10(max(np.sum(np.abs(self.taps) ** 2), 1e-12) / self.noise_var))

    def centroid(self) -> float:
        """Power-weighted mean delay in samples."""
        p = np.abs(self.taps) ** 2
        return float(np.sum(p * (np.arange(p.size) - PRECURSOR)) / max(p.sum(), 1e-30))

    def significant(self) -> np.ndarray:
        return np.abs(self.taps) ** 2 > _NOISE_FACTOR * self.tap_floor

    def keep(self, support: np.ndarray | None = None) -> Cir:
        mask = self.significant() if support is None else support
        return Cir(np.where(mask, self.taps, 0).astype(np.complex64), self.noise_var,
                   self.tap_floor, self.peak_to_floor)


@cache
def _pn595_pinv() -> tuple[np.ndarray, float]:
    """Least-squares estimator for PN595 (unit-amplitude chips) and its mean noise gain."""
    ref = 1 - 2 * tables.pn_tables()["pn595_bits"].astype(np.float64)
    d_max = _MAX_DELAY["pn595"]
    rows = np.arange(d_max, 595 - PRECURSOR)
    delays = np.arange(-PRECURSOR, d_max + 1)
    a = ref[rows[:, None] - delays[None, :]]
    pinv = np.linalg.pinv(a).astype(np.float32)
    return pinv, float(np.mean(np.sum(pinv.astype(np.float64) ** 2, axis=1)))


def max_delay(cfg: DtmbConfig) -> int:
    return _MAX_DELAY[cfg.header]


def period(header: str) -> int:
    """The m-sequence period of a cyclic header (PN420: 255, PN945: 511)."""
    return _PERIOD[header]


@cache
def rotating_shifts(header: str) -> np.ndarray:
    """Cyclic shift (delay, in samples of one period) of each rotating header against phase 0."""
    rot = 1 - 2 * tables.pn_tables()[f"{header}_rotating_headers_bits"].astype(np.float64)
    n = _PERIOD[header]
    ref = np.conj(np.fft.fft(rot[0, :n]))
    return np.array([int(np.argmax(np.fft.ifft(np.fft.fft(r[:n]) * ref).real)) for r in rot])


def estimate_cir(cfg: DtmbConfig, rx_header: np.ndarray, ref: np.ndarray) -> Cir:
    """Raw taps (noise everywhere; apply ``Cir.keep``) from one received header
    (``rx_header``, starting at the frame start) and the header sent (``ref``)."""
    d_max = _MAX_DELAY[cfg.header]
    amp = ref[0] / (1 - 2 * (ref[0].real < 0))  # chip amplitude (1+j) * sqrt(ratio / 2)
    if cfg.header == "pn595":
        pinv, gain = _pn595_pinv()
        r = rx_header[d_max:595 - PRECURSOR] / amp
        taps = pinv @ r.real + 1j * (pinv @ r.imag)  # real products: ~4x faster than complex
        tap_noise_gain = gain / abs(amp) ** 2
    else:
        n = _PERIOD[cfg.header]
        r = rx_header[d_max:d_max + n].astype(np.complex128)
        p = ref[d_max:d_max + n].astype(np.complex128)
        c = np.fft.ifft(np.fft.fft(r) * np.conj(np.fft.fft(p))) / np.vdot(p, p).real
        taps = c[np.arange(-PRECURSOR, d_max + 1) % n]
        # an m-sequence's circular autocorrelation is -1/n off peak: every tap carries
        # -sum(h)/n, above the noise floor at high SNR; add back the significant taps' sum
        power = np.abs(taps) ** 2
        taps = taps + taps[power > _NOISE_FACTOR * np.median(power) / np.log(2)].sum() / n
        tap_noise_gain = 1.0 / (n * abs(amp) ** 2)
    power = np.abs(taps) ** 2
    floor = max(float(np.median(power)) / np.log(2), 1e-30)  # median of exponential = ln2 mean
    return Cir(taps.astype(np.complex64), max(floor / tap_noise_gain, 1e-9), floor,
               float(power.max() / floor))


def add_echoes(z: np.ndarray, ref: np.ndarray, taps: np.ndarray) -> None:
    """z += the echoes of a header sent at z's start (in place)."""
    subtract_echoes(z, 0, ref, 0, (-taps).astype(np.complex64), PRECURSOR)


def _extent(taps: np.ndarray) -> tuple[int, int]:
    """(precursor samples, max delay) spanned by the non-zero taps."""
    nz = np.flatnonzero(taps)
    if nz.size == 0:
        return 0, 0
    return max(PRECURSOR - int(nz[0]), 0), max(int(nz[-1]) - PRECURSOR, 0)


def equalise_body(cfg: DtmbConfig, frame: np.ndarray, cur: Cir, nxt: Cir, ref_cur: np.ndarray,
                  ref_next: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``frame``: samples from this frame's start through at least ``max_delay`` samples of the
    next header. Returns the body's 3780 equalised symbols in logical order (C=3780: logical
    carriers; C=1: time) and each one's noise variance."""
    hs, fs = cfg.header_symbols, cfg.frame_symbols
    a = max(_extent(cur.taps)[0], _extent(nxt.taps)[0])
    d = max(_extent(cur.taps)[1], _extent(nxt.taps)[1])
    z = frame[hs - a:fs + d].astype(np.complex64)
    subtract_echoes(z, hs - a, ref_cur, 0, cur.taps, PRECURSOR)
    subtract_echoes(z, hs - a, ref_next, fs, nxt.taps, PRECURSOR)
    body = z[a:a + BODY_SYMBOLS].copy()
    if d:
        body[:d] += z[a + BODY_SYMBOLS:]
    if a:
        body[BODY_SYMBOLS - a:] += z[:a]
    h = np.zeros((2, BODY_SYMBOLS), np.complex64)
    at = np.arange(-PRECURSOR, cur.taps.size - PRECURSOR) % BODY_SYMBOLS
    h[0, at], h[1, at] = cur.taps, nxt.taps
    hc, hn = np.fft.fft(h, axis=1)
    big_h = (hc + hn) / 2
    y = modem.to_frequency(body[None], centred=False)[0]  # the C=3780 body's carriers
    # noise, plus the channel's uncertainty at mid-body: half its change over the frame, and
    # the estimation noise of the taps kept (this keeps LLRs honest in notches)
    kept = np.count_nonzero(cur.taps) + np.count_nonzero(nxt.taps)
    drift = float(np.mean(np.abs(hn - hc) ** 2)) / 4
    noise = (cur.noise_var + nxt.noise_var) / 2 + drift + kept * (cur.tap_floor + nxt.tap_floor) / 8
    p = np.abs(big_h) ** 2
    if cfg.carriers == 3780:
        x = y / np.where(p > 0, big_h, 1)
        nv = noise / np.maximum(p, 1e-12)
        fi = tables.freq_interleaver()
        return x[fi].astype(np.complex64), np.minimum(nv[fi], 1e6).astype(np.float32)
    g = p / (p + noise)  # MMSE gain per bin
    mean_g = max(float(g.mean()), 1e-6)
    x = modem.to_time((y * np.conj(big_h) / (p + noise))[None], centred=False)[0] / mean_g
    nv = np.full(BODY_SYMBOLS, min((1 - mean_g) / mean_g, 1e6), np.float32)
    return x.astype(np.complex64), nv


def frame_estimates(cfg: DtmbConfig, seg: np.ndarray, index: int):
    """Channel estimates from a frame's header and the next frame's (``seg``: frame + next
    header; ``index``: the frame's place in the superframe), with both reference headers."""
    sf = stages.frames_per_superframe(cfg)
    ref_cur, ref_next = stages.header(cfg, index % sf), stages.header(cfg, (index + 1) % sf)
    hs, fs = cfg.header_symbols, cfg.frame_symbols
    cur = estimate_cir(cfg, seg[:hs], ref_cur)
    nxt = estimate_cir(cfg, seg[fs:fs + hs], ref_next)
    return cur, nxt, ref_cur, ref_next
