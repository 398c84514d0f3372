"""DTMB acquisition with no configuration (GB 20600-2006): header type, frame timing, carrier
offset, PN phase mode and superframe position, body mode and transmission mode.

* Header and frame timing: PN420 and PN945 headers are cyclically extended m-sequences, so the
  received signal repeats itself 255 (511) samples later over 165 (434) samples at every header,
  whatever the PN phase. That repetition correlation (``phy.sync``) gives the header start and a
  carrier-offset estimate (modulo fs/lag; the alias is resolved against the known headers, so
  the range is +-60 kHz). PN595 is found by cross-correlation with its chips on a frequency grid.
  With noise before the signal, the first frame is the first strong header of the grid.
* Rotating or constant PN phase, and the frame's place in the superframe: correlation of two
  headers with every rotating header.
* The frame start is then set on the first path of the header's channel estimate, and the body
  of the first frame is equalised both as C=3780 and as C=1: the 4-bit body prefix of the 36
  system-information symbols decides, and the nearest SI vector gives constellation, code rate
  and interleaver mode.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sdrcast.errors import ConfigError, SyncLost
from sdrcast.phy.dtmb import equaliser, stages, tables
from sdrcast.phy.dtmb.config import DtmbConfig
from sdrcast.phy.kernels.mix import mix
from sdrcast.phy.sync import cfo_from_phase, normalised_xcorr, repetition_correlation
from sdrcast.phy.tables import load_json

_LAGS = {"pn420": (255, 165), "pn945": (511, 434)}
MAX_CFO_HZ = 60e3  # acquisition range (the standard's receivers must take +-50 kHz)
_MODES = {3: ("4QAM-NR", 0.8), 5: ("4QAM", 0.4), 7: ("4QAM", 0.6), 9: ("4QAM", 0.8),
          11: ("16QAM", 0.4), 13: ("16QAM", 0.6), 15: ("16QAM", 0.8), 17: ("32QAM", 0.8),
          19: ("64QAM", 0.4), 21: ("64QAM", 0.6), 23: ("64QAM", 0.8)}


@dataclass
class SyncResult:
    header: str
    start: int  # absolute sample index of the first frame synchronised to
    cfo_hz: float
    rotating: bool
    superframe_index: int
    carriers: int
    si_index: int
    si_distance: int


def _fold(v: np.ndarray, period: int) -> np.ndarray:
    """The best of ``v`` at each position modulo ``period`` (the signal may fill only the
    last few periods: a mean would favour positions partly inside every period)."""
    n = (v.size // period) * period
    return v[:n].reshape(-1, period).max(axis=0)


def _first_strong(v: np.ndarray, k: int, period: int) -> tuple[int, float]:
    """(first position, score): the first of ``k, k + period, ...`` where ``v`` reaches half its
    best there, and the mean of ``v`` from there on (0 unless the header recurs): with noise
    before the signal, the header grid found by folding starts in the noise, and a mean over
    all of it would count the noise."""
    at = v[k::period]
    j = int(np.argmax(at >= 0.5 * at.max()))
    return k + period * j, float(at[j:].mean()) if at.size - j >= 2 else 0.0


def _rotate(x: np.ndarray, cfo: float, fs: float) -> np.ndarray:
    """Remove a carrier offset ``cfo`` (Hz), phase zero at ``x[0]``."""
    return mix(np.ascontiguousarray(x, np.complex64), 0.0, -cfo / fs)


def si_bits(symbols: np.ndarray) -> np.ndarray:
    return ((symbols.real + symbols.imag) < 0).astype(np.uint8)


class Acquirer:
    """``acquire(iq) -> (config, SyncResult)`` at 7.56 Msps; ``known`` skips mode detection
    (timing and carrier are still found)."""

    def __init__(self, fs: float, known: DtmbConfig | None = None):
        self.fs, self.known = fs, known

    def _find_header(self, x: np.ndarray) -> tuple[str, int, float]:
        """(header, first header start, CFO) from four frames of input."""
        best = None
        names = [self.known.header] if self.known else list(_LAGS) + ["pn595"]
        for name in names:
            if name == "pn595":
                found = self._find_pn595(x)
            else:
                found = self._find_cyclic(x, name)
            if found is not None and (best is None or found[0] > best[0]):
                best = found
        if best is None or best[0] < 0.5:
            raise SyncLost("no DTMB frame header found (PN420/595/945) in the input")
        return best[1], best[2], best[3]

    def _find_cyclic(self, x: np.ndarray, name: str):
        lag, win = _LAGS[name]
        period = DtmbConfig(name).frame_symbols
        n = min(len(x) - lag - win, 4 * period)
        if n <= period:
            return None
        p, norm = repetition_correlation(x[:n + lag + win], lag, win)
        score = _fold(norm[:n], period)
        k0 = int(np.argmax(score))
        # exact timing: the unnormalised correlation peaks where the whole window overlaps
        # (around k0 on the circle of the frame period: the peak may wrap)
        mag = _fold(np.abs(p[:n]), period)
        near = (k0 + np.arange(-win, win)) % period
        k = int(near[np.argmax(mag[near])])
        frac = cfo_from_phase(float(np.angle(np.sum(p[k:n:period]))), lag, self.fs)
        strength = _first_strong(norm[:n], k0, period)[1]
        k = _first_strong(norm[:n], k, period)[0]
        return strength, name, k, self._resolve_cfo(x, name, k, frac, lag)

    def _resolve_cfo(self, x: np.ndarray, name: str, start: int, frac: float, lag: int) -> float:
        """The lag correlation gives the CFO modulo fs/lag; pick the alias whose de-rotated
        header best matches a known (any-phase) header."""
        hs = DtmbConfig(name).header_symbols
        rot = 1 - 2 * tables.pn_tables()[f"{name}_rotating_headers_bits"].astype(np.float32)
        rx = x[start:start + hs].astype(np.complex128)
        n = np.arange(hs)
        step = self.fs / lag
        best = (-1.0, frac)
        for m in range(-int(MAX_CFO_HZ // step) - 1, int(MAX_CFO_HZ // step) + 2):
            f = frac + m * step
            if abs(f) > MAX_CFO_HZ:
                continue
            c = float(np.max(np.abs(rot @ (rx * np.exp(-2j * np.pi * f / self.fs * n)))))
            if c > best[0]:
                best = (c, f)
        return best[1]

    def _find_pn595(self, x: np.ndarray):
        """(score, "pn595", start, CFO) by cross-correlation over a CFO grid, or None."""
        ref = stages.header(DtmbConfig("pn595"), 0)
        period = DtmbConfig("pn595").frame_symbols
        n = min(len(x) - len(ref), 4 * period)
        if n <= period:
            return None
        seg = x[:n + len(ref)]
        best = None
        step = self.fs / (2 * len(ref))  # half a cycle over the header at the grid's worst
        for f in np.arange(-MAX_CFO_HZ, MAX_CFO_HZ + step / 2, step):
            d = _rotate(seg, f, self.fs)
            score = _fold(normalised_xcorr(d, ref)[:n], period)
            k = int(np.argmax(score))
            if best is None or score[k] > best[0]:
                best = (float(score[k]), k, float(f))
        _, k, f = best
        d = _rotate(x, f, self.fs)
        k, strength = _first_strong(normalised_xcorr(d[:n + len(ref)], ref)[:n], k, period)
        return strength, "pn595", k, f + self._cfo_from_header(d, ref, k)

    def _cfo_from_header(self, x: np.ndarray, ref: np.ndarray, start: int) -> float:
        """CFO from the phase drift between the two halves of a known header."""
        h = len(ref) // 2
        rx = x[start:start + 2 * h]
        c1 = np.vdot(ref[:h], rx[:h])
        c2 = np.vdot(ref[h:2 * h], rx[h:2 * h])
        return float(np.angle(c2 * np.conj(c1))) * self.fs / (2 * np.pi * h)

    def _phase(self, x: np.ndarray, header: str, start: int) -> tuple[bool, int]:
        """(rotating, superframe index). Rotating headers are cyclic shifts of the phase-0
        m-sequence, and so are echoes: the absolute shift says nothing, but the shift from one
        header to the next (the channel cancels) is 0 for constant headers and, for rotating
        ones, names the frame. Three headers make the pair of steps unique."""
        if header == "pn595":
            return False, 0
        cfg = DtmbConfig(header)
        n, d = equaliser.period(header), equaliser.max_delay(cfg)
        p0 = np.conj(np.fft.fft(stages.header(cfg, 0)[d:d + n]))
        prof = []
        for f in range(3):
            a = start + f * cfg.frame_symbols + d
            if a + n > x.size:
                break
            prof.append(np.fft.ifft(np.fft.fft(x[a:a + n]) * p0))  # channel-smeared shift profile
        if len(prof) < 2:
            return False, 0
        # steps[j][k]: how well header j+1 is header j shifted by k
        steps = [np.abs(np.fft.ifft(np.conj(np.fft.fft(u)) * np.fft.fft(v)))
                 for u, v in zip(prof[:-1], prof[1:], strict=True)]
        shifts = equaliser.rotating_shifts(header)
        sf = shifts.size
        scores = [sum(st[(shifts[(f + j + 1) % sf] - shifts[(f + j) % sf]) % n]
                      for j, st in enumerate(steps)) for f in range(sf)]
        f = int(np.argmax(scores))
        if sum(st[0] for st in steps) >= scores[f]:
            return False, 0
        return True, f

    def _si_mode(self, base: DtmbConfig, seg: np.ndarray, index: int) -> tuple[int, int, int]:
        """(carriers, SI vector index, Hamming distance) from one equalised frame."""
        si = load_json("dtmb", "system_info.json")
        vecs = {int(k): np.array([int(b) for b in v], np.uint8) for k, v in si["vectors"].items()}
        best = None
        cur, nxt, ref_cur, ref_next = equaliser.frame_estimates(base, seg, index)
        cur, nxt = cur.keep(), nxt.keep()
        for carriers in (3780, 1):
            cfg = replace(base, carriers=carriers)
            body, _ = equaliser.equalise_body(cfg, seg, cur, nxt, ref_cur, ref_next)
            bits = si_bits(body[tables.si_positions()] if carriers == 3780 else body[:36])
            prefix = si["c3780_prefix_bits"] if carriers == 3780 else si["c1_prefix_bits"]
            pre_err = int(np.sum(bits[:4] != np.array([int(b) for b in prefix])))
            for idx, v in vecs.items():
                if idx not in _MODES and idx - 1 not in _MODES:
                    continue
                d = int(np.sum(bits[4:] != v)) + 8 * pre_err
                if best is None or d < best[0]:
                    best = (d, carriers, idx)
        return best[1], best[2], best[0]

    def acquire(self, iq: np.ndarray) -> tuple[DtmbConfig, SyncResult]:
        """Find header, timing, CFO, PN phase mode, body mode and transmission mode in ``iq``
        (at least four frames): (configuration, sync result with ``start`` relative to ``iq``);
        ``SyncLost`` when there is no DTMB frame."""
        x = np.asarray(iq, np.complex64)
        header, start, cfo = self._find_header(x)
        x = _rotate(x, cfo, self.fs)
        rotating, sf_index = self._phase(x, header, start)
        base = self.known or DtmbConfig(header)
        base = replace(base, header_rotating=rotating)
        fs = base.frame_symbols
        # put the frame start on the channel's first path
        cur = equaliser.estimate_cir(base, x[start:start + base.header_symbols],
                                     stages.header(base, sf_index)).keep()
        nz = np.flatnonzero(np.abs(cur.taps) ** 2 > 0.1 * np.max(np.abs(cur.taps) ** 2))
        start += int(nz[0]) - equaliser.PRECURSOR if nz.size else 0
        sf = stages.frames_per_superframe(base)
        if start < 0:
            start, sf_index = start + fs, (sf_index + 1) % sf
        seg = x[start:start + fs + base.header_symbols]
        if seg.size < fs + base.header_symbols:
            raise SyncLost("not enough samples after the first DTMB header to read its frame")
        if self.known is not None:
            cfg, carriers, si_index, dist = base, base.carriers, base.si_index, 0
        else:
            carriers, si_index, dist = self._si_mode(base, seg, sf_index)
            const, rate = _MODES[si_index if si_index in _MODES else si_index - 1]
            cfg = DtmbConfig(header, rotating, carriers, const, rate,
                             1 if si_index in _MODES else 2)
        return cfg, SyncResult(header, start, cfo, rotating, sf_index, carriers, si_index, dist)


def detect(iq: np.ndarray, sample_rate: float) -> dict | None:
    """What DTMB signal ``iq`` carries, for ``sdrcast identify``: header, PN phase mode,
    carriers, constellation, code rate, interleaver, carrier offset and the first frame's
    start (samples at ``sample_rate``); None when there is none (or the rate cannot carry
    DTMB: 7.56 Msps or a rate the SRRC matched filter takes)."""
    from sdrcast.phy.dtmb.config import SYMBOL_RATE
    from sdrcast.phy.dtmb.shaping import matched_filter

    try:
        x = np.asarray(iq, np.complex64) if abs(sample_rate - SYMBOL_RATE) <= 1 else \
            matched_filter(sample_rate)(np.asarray(iq, np.complex64))
    except ConfigError:
        return None
    try:
        cfg, sync = Acquirer(SYMBOL_RATE).acquire(x)
    except SyncLost:
        return None
    return {"standard": "dtmb", "header": cfg.header, "rotating": cfg.header_rotating,
            "carriers": cfg.carriers, "constellation": cfg.constellation,
            "ldpc_rate": cfg.ldpc_rate, "interleaver_mode": cfg.interleaver_mode,
            "payload_mbps": round(cfg.payload_bitrate / 1e6, 3), "cfo_hz": round(sync.cfo_hz, 1),
            "start": round(sync.start * sample_rate / SYMBOL_RATE)}
