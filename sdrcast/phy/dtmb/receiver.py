"""DTMB receiver: finds the signal and its mode with no configuration, tracks it frame by frame
and decodes it (GB 20600-2006).

Acquisition (``acquire``):

* Header and frame timing: PN420 and PN945 headers are cyclically extended m-sequences, so the
  received signal repeats itself 255 (511) samples later over 165 (434) samples at every header,
  whatever the PN phase. That lag autocorrelation gives the header start and a carrier-offset
  estimate (modulo fs/lag; the alias is resolved against the known headers, so the range is
  +-60 kHz). PN595 is found by cross-correlation with its chips on a frequency grid.
* Rotating or constant PN phase, and the frame's place in the superframe: correlation of two
  headers with every rotating header.
* The frame start is then set on the first path of the header's channel estimate, and the body
  of the first frame is equalised both as C=3780 and as C=1: the 4-bit body prefix of the 36
  system-information symbols decides, and the nearest SI vector gives constellation, code rate
  and interleaver mode.

Tracking, per frame (``push``): channel estimates from this frame's and the next frame's headers
(``equaliser``), header-echo removal, cyclic reconstruction and FDE; the carrier offset from the
phase advance between the two estimates (first-order loop); the frame timing from the channel's
power centroid (second-order loop, so a sample-clock offset is followed and reported in ppm).
A frame whose header is not found is erased (zero LLRs); after ``LOST_AFTER`` such frames the
receiver re-acquires, and frames lost meanwhile enter the deinterleaver as erasures when the
signal and its position in the superframe are unchanged.
"""
from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace

import numpy as np

from sdrcast.errors import SyncLost
from sdrcast.phy.contracts import Receiver, ReceiverReport
from sdrcast.phy.dtmb import equaliser, stages, tables
from sdrcast.phy.dtmb.config import BODY_SYMBOLS, DATA_SYMBOLS, SYMBOL_RATE, DtmbConfig
from sdrcast.phy.dtmb.demodulator import ERASED_NOISE_VAR, DtmbDemodulator
from sdrcast.phy.dtmb.shaping import matched_filter
from sdrcast.phy.kernels.mix import mix
from sdrcast.phy.sync import PiLoop, cfo_from_phase, normalised_xcorr, repetition_correlation
from sdrcast.phy.tables import load_json

_LAGS = {"pn420": (255, 165), "pn945": (511, 434)}
MAX_CFO_HZ = 60e3  # acquisition range (the standard's receivers must take +-50 kHz)
ACQUIRE_SAMPLES = 5 * 4725  # five of the longest frames
LOST_AFTER = 4  # consecutive frames without a header before re-acquisition
MIN_PEAK_TO_FLOOR = 40.0  # strongest channel tap over the per-tap noise floor for a valid header
MAX_SI_ERRORS = 14  # of 36 SI bits (a wrong frame averages 18), for a frame of the signal tracked
DECODE_BATCH = 32  # frames per decoding job
MAX_PENDING_JOBS = 4  # decoding jobs queued at most (bounded memory; see ``live``)
PDP_ALPHA = 0.1  # tap-power averaging over frames (about ten)
PDP_FACTOR = 3.0  # averaged tap power over the noise floor for a tap to be kept
_CFO_GAIN = 0.5
_TIMING_GAINS = (0.05, 0.0005)  # proportional, integral (per frame): ~100-frame memory
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


@dataclass
class FrameRecord:
    """What the receiver measured on one frame."""

    start: int
    superframe_index: int
    synced: bool
    snr_db: float
    cfo_hz: float
    sco_ppm: float
    delay_spread_samples: float
    si_errors: int


def _fold(v: np.ndarray, period: int) -> np.ndarray:
    """The best of ``v`` at each position modulo ``period`` (the signal may fill only the
    last few periods: a mean would favour positions partly inside every period)."""
    n = (v.size // period) * period
    return v[:n].reshape(-1, period).max(axis=0)


def _first_strong(v: np.ndarray, k: int, period: int) -> tuple[int, float]:
    """(first position, score): the first of ``k, k + period, ...`` where ``v`` reaches half its
    best there, and the mean of ``v`` from there on (0 unless the header recurs). With noise
    before the signal, the header grid found by folding starts in the noise and the fold's
    mean is diluted by it."""
    at = v[k::period]
    j = int(np.argmax(at >= 0.5 * at.max()))
    return k + period * j, float(at[j:].mean()) if at.size - j >= 2 else 0.0


def _rotate(x: np.ndarray, cfo: float, fs: float) -> np.ndarray:
    """Remove a carrier offset ``cfo`` (Hz), phase zero at ``x[0]``."""
    return mix(np.ascontiguousarray(x, np.complex64), 0.0, -cfo / fs)


def _si_bits(symbols: np.ndarray) -> np.ndarray:
    return ((symbols.real + symbols.imag) < 0).astype(np.uint8)


class DtmbReceiver(Receiver):
    """Streaming DTMB receiver, no configuration needed.

    ``sample_rate``: 7.56e6 (symbol-rate samples) or any rate the SRRC matched filter can bring
    to 7.56 Msps (e.g. 10e6, 15.12e6); sample indices in reports count 7.56 Msps samples.

    ``push(iq) -> ts bytes`` as samples arrive; ``flush()`` at the end; ``demodulate(iq) ->
    (ts bytes, report)`` for a whole recording; ``close()`` drops the decoding not yet done.

    Decoding runs in a thread beside tracking with at most ``MAX_PENDING_JOBS`` jobs queued.
    When it falls behind, ``push`` waits for it (files and pipes: backpressure), or with
    ``live=True`` (radios, network streams) the frames of the job that does not fit pass the
    deinterleaver undecoded and their packets are dropped and counted (``frames_dropped``).

    ``config`` skips mode detection (timing and carrier are still acquired). ``report()``
    gives the sync state, the last ``history`` frames' measurements (SNR, CFO, SCO, delay
    spread, SI errors) and the decoder's counters.
    """

    def __init__(self, sample_rate: float = SYMBOL_RATE, config: DtmbConfig | None = None,
                 iterations: int = 30, workers: int = 2, history: int = 2000,
                 live: bool = False):
        # other rates: SRRC matched filter down to 7.56 Msps, where everything else runs
        self.matched = matched_filter(sample_rate) if abs(sample_rate - SYMBOL_RATE) > 1 else None
        self.fs = SYMBOL_RATE
        self.known = config
        self.iterations, self.workers, self.live = iterations, workers, live
        self.sync: SyncResult | None = None  # the latest acquisition
        self.syncs: list[SyncResult] = []  # every acquisition, the first one first
        self.cfg: DtmbConfig | None = None
        self.demod: DtmbDemodulator | None = None
        self.frames: deque[FrameRecord] = deque(maxlen=history)
        self.last_symbols = np.zeros(0, np.complex64)  # the last frame's equalised body
        self.counters = {"samples_in": 0, "samples_unsynced": 0, "acquisitions": 0,
                         "sync_losses": 0, "frames": 0, "frames_erased": 0,
                         "frames_lost_in_resync": 0, "tail_samples": 0}
        self._raw = np.zeros(0, np.complex64)
        self._base = 0  # absolute index of _raw[0]
        self._lost = 0  # frames missed during a re-acquisition, to erase
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="dtmb-decode")
        self._jobs: deque[Future] = deque()
        self._done: list[np.ndarray] = []  # TS bytes of jobs waited for, not yet returned
        self._held: list = []  # live: frames the decoder had no room for (deinterleaved only)
        self._reset_tracking()

    # -- acquisition -------------------------------------------------------------------------
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

    def _estimates(self, cfg: DtmbConfig, seg: np.ndarray, index: int):
        sf = stages.frames_per_superframe(cfg)
        ref_cur, ref_next = stages.header(cfg, index % sf), stages.header(cfg, (index + 1) % sf)
        hs, fs = cfg.header_symbols, cfg.frame_symbols
        cur = equaliser.estimate_cir(cfg, seg[:hs], ref_cur)
        nxt = equaliser.estimate_cir(cfg, seg[fs:fs + hs], ref_next)
        return cur, nxt, ref_cur, ref_next

    def _si_mode(self, base: DtmbConfig, seg: np.ndarray, index: int) -> tuple[int, int, int]:
        """(carriers, SI vector index, Hamming distance) from one equalised frame."""
        si = load_json("dtmb", "system_info.json")
        vecs = {int(k): np.array([int(b) for b in v], np.uint8) for k, v in si["vectors"].items()}
        best = None
        cur, nxt, ref_cur, ref_next = self._estimates(base, seg, index)
        cur, nxt = cur.keep(), nxt.keep()
        for carriers in (3780, 1):
            cfg = replace(base, carriers=carriers)
            body, _ = equaliser.equalise_body(cfg, seg, cur, nxt, ref_cur, ref_next)
            bits = _si_bits(body[tables.si_positions()] if carriers == 3780 else body[:36])
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
        """Find header, timing, CFO, PN phase mode, body mode and transmission mode in ``iq``
        (at least four frames); ``sync.start`` is relative to ``iq`` (the streaming receiver
        makes it absolute)."""
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
        self.sync = SyncResult(header, start, cfo, rotating, sf_index, carriers, si_index, dist)
        return cfg

    # -- tracking ----------------------------------------------------------------------------
    def _reset_tracking(self) -> None:
        self._pos = 0.0  # float frame start (absolute), timing loop state
        self._timing = PiLoop(*_TIMING_GAINS)  # its rate: extra samples per frame (clock offset)
        self._target = 0.0  # channel centroid the timing loop holds
        self._cfo = 0.0
        self._anchor = (0, 0.0)  # (absolute index, phase in cycles) of the derotation
        self._index = 0  # superframe index of the next frame
        self._bad = 0  # consecutive frames without a header
        self._next_cir = None  # (frame start, channel estimate of its header) from the last frame
        self._pdp: np.ndarray | None = None  # tap powers averaged over frames
        self._floor = 0.0
        self._pdp_start = 0  # frame start the averaged taps are aligned with

    def _derotate(self, x: np.ndarray, first: int) -> np.ndarray:
        """Remove the tracked carrier from ``x`` (starting at absolute index ``first``),
        phase-continuous from the anchor."""
        n0, ph0 = self._anchor
        f = self._cfo / self.fs
        return mix(np.ascontiguousarray(x, np.complex64), -(ph0 + f * (first - n0)) % 1.0, -f)

    def _start_tracking(self) -> None:
        """After ``acquire`` on ``_raw``: set up the loops, and the decoder unless the signal
        is the one tracked before the loss (then the frames missed go in as erasures)."""
        s, cfg = self.sync, self.cfg
        start, rel = s.start, s.start - self._base
        gap = (start - self._pos, self._index)  # against where the next frame was expected
        self._reset_tracking()
        self._pos, self._cfo, self._index = float(start), s.cfo_hz, s.superframe_index
        self._anchor = (start, 0.0)
        seg = self._derotate(self._raw[rel:rel + cfg.header_symbols], start)
        self._target = equaliser.estimate_cir(cfg, seg, stages.header(cfg, self._index)).keep().centroid()
        if self.demod is not None and self.demod.cfg == cfg:
            sf = stages.frames_per_superframe(cfg)
            if cfg.header_rotating:  # the superframe index counts the frames missed modulo sf:
                est = round(gap[0] / cfg.frame_symbols)  # the count nearest the time elapsed
                lost = est + (s.superframe_index - gap[1] - est + sf // 2) % sf - sf // 2
            elif abs(gap[0] - round(gap[0] / cfg.frame_symbols) * cfg.frame_symbols) < 8:
                lost = round(gap[0] / cfg.frame_symbols)  # frame grid kept: a fade, not a drop
            else:
                lost = -1  # samples were dropped: how many frames is unknown, start afresh
            if 0 <= lost < self.demod.latency_frames:
                self._lost += lost
                self.counters["frames_lost_in_resync"] += lost
                return
        # a new decoder (the counters carry on across re-acquisitions)
        self.demod = DtmbDemodulator(cfg, iterations=self.iterations, workers=self.workers,
                                     report=self.demod.report if self.demod else None)

    def _track(self, seg: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
        """Equalise one frame (``seg``: frame + next header, derotated); update the loops.
        A ``seg`` without the next header (the input's last frame) is completed with that
        header's echoes through this frame's channel."""
        cfg = self.cfg
        if seg.size < cfg.frame_symbols + cfg.header_symbols:
            sf = stages.frames_per_superframe(cfg)
            cur = equaliser.estimate_cir(cfg, seg[:cfg.header_symbols],
                                         stages.header(cfg, self._index % sf)).keep()
            pad = np.zeros(cfg.frame_symbols + cfg.header_symbols, np.complex64)
            pad[:seg.size] = seg
            tail = np.zeros(pad.size - cfg.frame_symbols, np.complex64)
            equaliser.add_echoes(tail, stages.header(cfg, (self._index + 1) % sf), cur.taps)
            pad[cfg.frame_symbols:] = tail
            seg = pad
        sf = stages.frames_per_superframe(cfg)
        if self._next_cir is not None and self._next_cir[0] == start:  # estimated last frame
            cur, ref_cur = self._next_cir[1], stages.header(cfg, self._index % sf)
            ref_next = stages.header(cfg, (self._index + 1) % sf)
            hs, fs = cfg.header_symbols, cfg.frame_symbols
            nxt = equaliser.estimate_cir(cfg, seg[fs:fs + hs], ref_next)
        else:
            cur, nxt, ref_cur, ref_next = self._estimates(cfg, seg, self._index)
        self._next_cir = None
        raw_next = nxt
        support = self._support(cur, start)
        cur, nxt = cur.keep(support), nxt.keep(support)
        # a header is found, and the channel seen by this frame's and the next frame's headers
        # agree (a header of another frame looks like a shifted channel)
        same = abs(np.vdot(cur.taps, nxt.taps)) / max(
            float(np.linalg.norm(cur.taps) * np.linalg.norm(nxt.taps)), 1e-30)
        ok = bool(min(cur.peak_to_floor, nxt.peak_to_floor) > MIN_PEAK_TO_FLOOR and same > 0.5)
        rec = FrameRecord(start, self._index, ok, cur.snr_db, self._cfo,
                          self._timing.rate / cfg.frame_symbols * 1e6, 0.0, -1)
        self._index = (self._index + 1) % stages.frames_per_superframe(cfg)
        self.counters["frames"] += 1
        if not ok:
            return self._erased(rec)
        body, nv = equaliser.equalise_body(cfg, seg, cur, nxt, ref_cur, ref_next)
        si = tables.si_mask() if cfg.carriers == 3780 else np.arange(BODY_SYMBOLS) < 36
        rec.si_errors = int(np.sum(_si_bits(body[si]) != tables.system_info_bits(cfg.si_index,
                                                                                  cfg.carriers)))
        if rec.si_errors > MAX_SI_ERRORS:  # a header matched, but not this signal's frame
            return self._erased(rec)
        self._bad = 0
        self.last_symbols = body
        p = np.abs(cur.taps) ** 2
        c = cur.centroid()
        d = np.arange(p.size) - equaliser.PRECURSOR - c
        rec.delay_spread_samples = float(np.sqrt(np.sum(p * d ** 2) / max(p.sum(), 1e-30)))
        self.frames.append(rec)
        # carrier: phase advance of the channel over one frame
        dphi = float(np.angle(np.vdot(cur.taps, nxt.taps)))
        n_next = start + cfg.frame_symbols
        n0, ph0 = self._anchor
        self._anchor = (n_next, ph0 + self._cfo / self.fs * (n_next - n0))
        self._cfo += _CFO_GAIN * dphi * self.fs / (2 * np.pi * cfg.frame_symbols)
        # timing: where the channel centroid sits against where the loop expects it
        innov = start + (c - self._target) - self._pos
        self._pos += cfg.frame_symbols + self._timing.update(innov)
        if round(self._pos) == n_next:  # the next frame starts where its header was read
            self._next_cir = (n_next, raw_next)
        return body[~si], nv[~si]

    def _support(self, cur: equaliser.Cir, start: int) -> np.ndarray:
        """Taps kept: those whose power, averaged over frames (``PDP_ALPHA``), stands
        ``PDP_FACTOR`` over the noise floor, and any tap 10 dB over it in this frame. The
        same support for both headers of a frame, and weak paths that are always there
        (fractional-delay tails) are kept without letting noise in."""
        p = np.abs(cur.taps) ** 2
        if self._pdp is None or self._pdp.size != p.size:
            self._pdp, self._floor = p.copy(), cur.tap_floor
        else:
            shift = start - self._pdp_start  # the frame grid moved: so did the taps
            if shift:
                self._pdp = np.roll(self._pdp, -shift)
                self._pdp[-shift if shift > 0 else 0:self._pdp.size if shift > 0 else -shift] = 0
            self._pdp += PDP_ALPHA * (p - self._pdp)
            self._floor += PDP_ALPHA * (cur.tap_floor - self._floor)
        self._pdp_start = start + self.cfg.frame_symbols
        return (self._pdp > PDP_FACTOR * self._floor) | cur.significant()

    def _erased(self, rec: FrameRecord) -> tuple[np.ndarray, np.ndarray]:
        """A frame whose header or system information does not match: erase it, keep time."""
        rec.synced = False
        self._bad += 1
        self.counters["frames_erased"] += 1
        self.frames.append(rec)
        self._pos += self.cfg.frame_symbols + self._timing.rate
        return (np.zeros(BODY_SYMBOLS - 36, np.complex64),
                np.full(BODY_SYMBOLS - 36, ERASED_NOISE_VAR, np.float32))

    # -- streaming ---------------------------------------------------------------------------
    def push(self, iq: np.ndarray) -> np.ndarray:
        """Feed samples; returns the TS bytes decoded so far (decoding runs in a thread beside
        tracking, so bytes of the frames just pushed may come with a later call)."""
        x = np.asarray(iq, np.complex64).reshape(-1)
        self.counters["samples_in"] += x.size
        if self.matched is not None:
            x = self.matched(x)
        self._raw = np.concatenate([self._raw, x])
        syms, nvs = [], []
        while True:
            if self.cfg is None:
                if not self._try_acquire():
                    break
                continue  # acquired, or another window to search
            cfg = self.cfg
            start = round(self._pos)
            rel = start - self._base
            need = cfg.frame_symbols + cfg.header_symbols
            if rel + need > self._raw.size:
                break
            seg = self._derotate(self._raw[rel:rel + need], start)
            sym, nv = self._track(seg, start)
            syms.append(sym)
            nvs.append(nv)
            if self._bad >= LOST_AFTER or len(syms) >= DECODE_BATCH:
                self._submit(syms, nvs)
                syms, nvs = [], []
                if self._bad >= LOST_AFTER:
                    self._lose(start + cfg.frame_symbols)
        self._submit(syms, nvs)
        self._trim()
        return self._collect(wait=False)

    def _submit(self, syms: list, nvs: list, end: bool = False) -> None:
        """Queue frames (and erasures for frames missed in a re-acquisition) for decoding;
        ``end``: the last call, frames held back are queued too."""
        if self.demod is None or not (syms or self._lost or (end and self._held)):
            return
        demod, lost = self.demod, self._lost
        self._lost = 0
        work = ([(demod, np.zeros((lost, DATA_SYMBOLS), np.complex64),
                  np.full((lost, DATA_SYMBOLS), ERASED_NOISE_VAR, np.float32), lost)]
                if lost else [])  # erasures first: they stand for frames before these
        if syms:
            work.append((demod, np.stack(syms), np.stack(nvs), 0))
        if self.live and len(self._jobs) >= MAX_PENDING_JOBS and not end:
            self._held += work  # decoding is behind a live signal: deinterleave only, later
            return
        while len(self._jobs) >= MAX_PENDING_JOBS:
            self._done.append(self._jobs.popleft().result())  # backpressure
        held, self._held = self._held, []

        def job() -> np.ndarray:
            parts = []
            for items, drop in ((held, True), (work, False)):
                for dem, sym, nv, erased in items:
                    dem.report.frames_lost += erased
                    parts.append(dem.decode(sym, nv, drop=drop)[0])
            return np.concatenate(parts)

        self._jobs.append(self._pool.submit(job))

    def _collect(self, wait: bool) -> np.ndarray:
        """TS bytes of the decoding jobs finished (all of them when ``wait``), in order."""
        parts, self._done = self._done, []
        while self._jobs and (wait or self._jobs[0].done()):
            parts.append(self._jobs.popleft().result())
        return np.concatenate(parts) if parts else np.zeros(0, np.uint8)

    def close(self) -> None:
        """Stop: decoding jobs not started are cancelled, the running one is let finish."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._jobs.clear()

    def _lose(self, resume: int) -> None:
        """Sync lost: search again from ``resume`` (absolute)."""
        self.counters["sync_losses"] += 1
        self.cfg = None
        self._bad = 0
        drop = max(resume - self._base, 0)
        self._raw, self._base = self._raw[drop:], self._base + drop

    def _try_acquire(self) -> bool:
        """Search the first ``ACQUIRE_SAMPLES`` buffered; when nothing is found, slide on by
        that window less one frame (a header may straddle the cut) and tell the caller to try
        again while enough samples are buffered."""
        if self._raw.size < ACQUIRE_SAMPLES:
            return False
        try:
            cfg = self.acquire(self._raw[:ACQUIRE_SAMPLES])
        except SyncLost:
            drop = ACQUIRE_SAMPLES - 4725
            self.counters["samples_unsynced"] += drop
            self._raw, self._base = self._raw[drop:], self._base + drop
            return self._raw.size >= ACQUIRE_SAMPLES
        self.counters["acquisitions"] += 1
        self.counters["samples_unsynced"] += self.sync.start
        self.sync.start += self._base  # absolute (7.56 Msps samples since the first pushed)
        self.syncs.append(self.sync)
        self.cfg = cfg
        self._start_tracking()
        return True

    def _trim(self) -> None:
        """Forget samples before the next frame start."""
        if self.cfg is None:
            return
        drop = max(round(self._pos) - self._base - 64, 0)
        self._raw, self._base = self._raw[drop:], self._base + drop

    def flush(self) -> np.ndarray:
        """End of input: decode a last whole frame (its next header missing), count the rest."""
        syms, nvs = [], []
        if self.cfg is not None:
            start = round(self._pos)
            rel = start - self._base
            if 0 <= rel and rel + self.cfg.frame_symbols <= self._raw.size:
                seg = self._derotate(self._raw[rel:rel + self.cfg.frame_symbols], start)
                sym, nv = self._track(seg, start)
                syms, nvs = [sym], [nv]
                end = rel + self.cfg.frame_symbols
                self._raw, self._base = self._raw[end:], self._base + end
        self.counters["tail_samples"] += self._raw.size
        self._raw = np.zeros(0, np.complex64)
        self._submit(syms, nvs, end=True)
        return self._collect(wait=True)

    standard = "dtmb"
    no_signal = "no DTMB frame header found (PN420/595/945)"

    @property
    def synced_once(self) -> bool:
        return bool(self.syncs)

    def counters_now(self) -> dict:
        """The receiver's and the decoder's counters (cheap; for status lines)."""
        rep = self.demod.report if self.demod is not None else None
        dec = {k: getattr(rep, k, 0) for k in ("frames_out", "frames_lost", "frames_dropped",
                                                "ldpc_failures",
                                                "bch_failures", "bch_corrected", "ts_packets_marked",
                                                "pre_ldpc_ber")}
        return {**self.counters, **dec}

    def report(self) -> dict:
        """The common receiver report (``phy.contracts.ReceiverReport``) with DTMB's details:
        sync result, configuration, per-frame log, counters and the decoder's report."""
        rep = self.demod.report.to_dict() if self.demod is not None else {}
        c = self.counters
        last = self.frames[-1] if self.frames else None
        mer = rep.get("mer_db") or []
        return ReceiverReport(
            "dtmb", "tracking" if self.cfg else ("lost" if self.syncs else "searching"),
            c["samples_in"], c["acquisitions"], c["sync_losses"],
            last.cfo_hz if last else None, last.sco_ppm if last else None,
            last.snr_db if last else None, float(np.mean(mer[-50:])) if mer else None,
            fec={k: rep.get(k, 0) for k in ("ldpc_failures", "bch_failures", "bch_corrected",
                                              "pre_ldpc_ber")},
            payload={"ts_packets_out": rep.get("frames_out", 0) * (self.demod.cfg.ts_bytes_per_frame
                                                                    // 188 if self.demod else 0),
                     "ts_packets_marked": rep.get("ts_packets_marked", 0),
                     "frames_dropped": rep.get("frames_dropped", 0)},
            details={"sync": asdict(self.syncs[0]) if self.syncs else None,
                     "acquisitions_log": [asdict(a) for a in self.syncs],
                     "config": self.cfg.__dict__ if self.cfg else None,
                     "frames_log": [asdict(f) for f in self.frames], **rep, **c,
                     "mer_db_per_frame": list(mer)}).to_dict()
