"""DTMB receiver front end: finds the signal and its mode with no configuration, then hands
aligned frames to ``DtmbDemodulator``.

* Header and frame timing: PN420 and PN945 headers are cyclically extended m-sequences, so the
  received signal repeats itself 255 (511) samples later over 165 (434) samples at every header,
  whatever the PN phase. That lag autocorrelation gives the header start and a carrier-offset
  estimate (range +-fs/(2 lag)); PN595 is found by cross-correlation with its known chips.
* Rotating or constant PN phase, and the frame's place in the superframe: correlation of the
  first header with the phase-0 header and with every rotating header.
* Body mode and transmission mode: the 36 system-information symbols are read both as C=3780
  (after the DFT) and C=1 (time domain); the 4-bit body prefix decides, and the nearest of the
  SI vectors (Hamming distance) gives constellation, code rate and interleaver mode.

CFO is acquired over +-60 kHz: the lag-correlation alias (modulo fs/lag) is resolved against the
known headers, and PN595 is searched on a frequency grid. Not yet: sample-clock tracking,
multipath estimation, re-synchronisation after loss (see docs/dtmb.md).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sdrcast.errors import SyncLost
from sdrcast.phy.dtmb import stages, tables
from sdrcast.phy.dtmb.config import BODY_SYMBOLS, DtmbConfig
from sdrcast.phy.dtmb.demodulator import DtmbDemodulator
from sdrcast.phy.fec.tables import load_json

_LAGS = {"pn420": (255, 165), "pn945": (511, 434)}
MAX_CFO_HZ = 60e3  # acquisition range (the standard's receivers must take +-50 kHz)
_MODES = {3: ("4QAM-NR", 0.8), 5: ("4QAM", 0.4), 7: ("4QAM", 0.6), 9: ("4QAM", 0.8),
          11: ("16QAM", 0.4), 13: ("16QAM", 0.6), 15: ("16QAM", 0.8), 17: ("32QAM", 0.8),
          19: ("64QAM", 0.4), 21: ("64QAM", 0.6), 23: ("64QAM", 0.8)}


@dataclass
class SyncResult:
    header: str
    start: int
    cfo_hz: float
    rotating: bool
    superframe_index: int
    carriers: int
    si_index: int
    si_distance: int


def _windowed(v: np.ndarray, win: int) -> np.ndarray:
    c = np.concatenate([[0], np.cumsum(v)])
    return c[win:] - c[:-win]


def _lag_corr(x: np.ndarray, lag: int, win: int) -> tuple[np.ndarray, np.ndarray]:
    """P[n] = sum_{k<win} x[n+k] conj(x[n+k+lag]) and its normalised magnitude
    |P| / sqrt(E1 E2) (1 for a perfect repetition, small elsewhere)."""
    p = _windowed(x[:-lag] * np.conj(x[lag:]), win)
    e = np.abs(x) ** 2
    e1 = _windowed(e[:-lag], win)
    e2 = _windowed(e[lag:], win)
    return p, np.abs(p) / np.sqrt(e1 * e2 + 1e-20)


def _fold(v: np.ndarray, period: int) -> np.ndarray:
    n = (v.size // period) * period
    return v[:n].reshape(-1, period).mean(axis=0)


class DtmbReceiver:
    """``DtmbReceiver(sample_rate=7.56e6).demodulate(iq) -> (ts_bytes, report)``, no configuration."""

    def __init__(self, sample_rate: float = 7.56e6):
        if abs(sample_rate - 7.56e6) > 1:
            from sdrcast.errors import ConfigError

            raise ConfigError(f"sample_rate={sample_rate}: only 7.56e6 (unshaped symbols) for now")
        self.fs = sample_rate
        self.sync: SyncResult | None = None

    def _find_header(self, x: np.ndarray) -> tuple[str, int, float]:
        """(header, first header start, CFO) from four frames of input."""
        best = None
        for name, (lag, win) in _LAGS.items():
            period = DtmbConfig(name).frame_symbols
            n = min(len(x) - lag - win, 4 * period)
            if n <= period:
                continue
            p, norm = _lag_corr(x[:n + lag + win], lag, win)
            score = _fold(norm[:n], period)
            k0 = int(np.argmax(score))
            # exact timing: the unnormalised correlation peaks where the whole window overlaps
            mag = _fold(np.abs(p[:n]), period)
            lo, hi = max(0, k0 - win), min(period, k0 + win)
            k = lo + int(np.argmax(mag[lo:hi]))
            frac = -float(np.angle(np.sum(p[k:n:period]))) * self.fs / (2 * np.pi * lag)
            if best is None or score[k0] > best[0]:
                best = (float(score[k0]), name, k, self._resolve_cfo(x, name, k, frac, lag))
        pn595 = self._find_pn595(x)
        if pn595 is not None and (best is None or pn595[0] > best[0]):
            best = pn595
        if best is None or best[0] < 0.5:
            raise SyncLost("no DTMB frame header found (PN420/595/945) in the input")
        return best[1], best[2], best[3]

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
        e = _windowed(np.abs(seg) ** 2, len(ref))[:n]
        norm = np.sqrt(e * np.vdot(ref, ref).real + 1e-20)
        t = np.arange(seg.size)
        best = None
        step = self.fs / (2 * len(ref))  # half a cycle over the header at the grid's worst
        for f in np.arange(-MAX_CFO_HZ, MAX_CFO_HZ + step / 2, step):
            d = seg * np.exp(-2j * np.pi * f / self.fs * t)
            score = _fold(np.abs(np.correlate(d, ref, mode="valid")[:n]) / norm, period)
            k = int(np.argmax(score))
            if best is None or score[k] > best[0]:
                best = (float(score[k]), k, float(f))
        score, k, f = best
        d = x * np.exp(-2j * np.pi * f / self.fs * np.arange(x.size))
        return score, "pn595", k, f + self._cfo_from_header(d, ref, k)

    def _cfo_from_header(self, x: np.ndarray, ref: np.ndarray, start: int) -> float:
        """CFO from the phase drift between the two halves of a known header."""
        h = len(ref) // 2
        rx = x[start:start + 2 * h]
        c1 = np.vdot(ref[:h], rx[:h])
        c2 = np.vdot(ref[h:2 * h], rx[h:2 * h])
        return float(np.angle(c2 * np.conj(c1))) * self.fs / (2 * np.pi * h)

    def _phase(self, x: np.ndarray, header: str, start: int) -> tuple[bool, int]:
        """(rotating, superframe index) from the best-matching rotating header of two frames:
        a constant header matches phase 0 both times."""
        if header == "pn595":
            return False, 0
        cfg = DtmbConfig(header)
        rot = 1 - 2 * tables.pn_tables()[f"{header}_rotating_headers_bits"].astype(np.float32)
        ks = []
        for f in range(2):
            a = start + f * cfg.frame_symbols
            rx = x[a:a + cfg.header_symbols]
            if rx.size < cfg.header_symbols:
                break
            ks.append(int(np.argmax(np.abs(rot @ rx))))
        if all(k == 0 for k in ks):
            return False, 0
        return True, ks[0]

    def _si(self, body: np.ndarray) -> tuple[int, int, int]:
        si = load_json("dtmb", "system_info.json")
        vecs = {int(k): np.array([int(b) for b in v], np.uint8) for k, v in si["vectors"].items()}
        best = None
        for carriers in (3780, 1):
            if carriers == 3780:
                X = np.fft.fft(body) / np.sqrt(BODY_SYMBOLS)
                sym = X[tables.freq_interleaver()][tables.si_positions()]
            else:
                sym = body[:36]
            bits = ((sym.real + sym.imag) < 0).astype(np.uint8)
            prefix = si["c3780_prefix_bits"] if carriers == 3780 else si["c1_prefix_bits"]
            pre_err = int(np.sum(bits[:4] != np.array([int(b) for b in prefix])))
            for idx, v in vecs.items():
                if idx not in _MODES and idx - 1 not in _MODES:
                    continue
                d = int(np.sum(bits[4:] != v)) + 8 * pre_err
                if best is None or d < best[0]:
                    best = (d, carriers, idx)
        return best[1], best[2], best[0]

    def acquire(self, iq: np.ndarray) -> DtmbConfig:
        """Find header, timing, CFO, PN phase mode, body mode and transmission mode."""
        x = np.asarray(iq, np.complex64)
        header, start, cfo = self._find_header(x)
        n = np.arange(len(x))
        x = (x * np.exp(-2j * np.pi * cfo / self.fs * n)).astype(np.complex64)
        period = DtmbConfig(header).frame_symbols
        hs = DtmbConfig(header).header_symbols
        rotating, sf_index = self._phase(x, header, start)
        ref = stages.header(DtmbConfig(header, rotating), sf_index)
        h = np.vdot(ref, x[start:start + hs]) / np.vdot(ref, ref)
        body = x[start + hs:start + period] / h
        carriers, si_index, dist = self._si(body)
        const, rate = _MODES[si_index if si_index in _MODES else si_index - 1]
        mode = 1 if si_index in _MODES else 2
        self.sync = SyncResult(header, start, cfo, rotating, sf_index, carriers, si_index, dist)
        return DtmbConfig(header, rotating, carriers, const, rate, mode)

    def demodulate(self, iq: np.ndarray) -> tuple[np.ndarray, dict]:
        """Acquire, then decode every whole frame from the first header on."""
        cfg = self.acquire(iq)
        s = self.sync
        x = np.asarray(iq, np.complex64)
        n = np.arange(len(x))
        x = (x * np.exp(-2j * np.pi * s.cfo_hz / self.fs * n)).astype(np.complex64)
        frames = (len(x) - s.start) // cfg.frame_symbols
        demod = DtmbDemodulator(cfg, first_frame=s.superframe_index)
        out, rep = demod.demodulate(x[s.start:s.start + frames * cfg.frame_symbols])
        return out, {"sync": s.__dict__, "config": cfg.__dict__, **rep.to_dict()}
