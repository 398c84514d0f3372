"""DTMB receiver: finds the signal and its mode with no configuration, tracks it frame by frame
and decodes it (GB 20600-2006).

The three jobs sit in three places: acquisition (``acquisition.Acquirer``: header type,
timing, carrier, PN phase, mode, from nothing), tracking (here), decoding (``decoder.DtmbDecoder``
on its own thread: deinterleaving, demapping, LDPC, BCH); this class streams samples through
them and keeps the receiver contract (``phy.contracts``) and its report. Sync states:
searching (no signal yet), tracking, lost (re-acquiring after ``LOST_AFTER`` frames without a
header). Sample indices in reports are absolute (7.56 Msps samples since the first pushed).

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
from dataclasses import asdict, dataclass

import numpy as np

from sdrcast.errors import SyncLost
from sdrcast.phy.contracts import Receiver, ReceiverReport, SyncStateMachine
from sdrcast.phy.dtmb import equaliser, stages, tables
from sdrcast.phy.dtmb.acquisition import Acquirer, SyncResult, si_bits
from sdrcast.phy.dtmb.config import BODY_SYMBOLS, DATA_SYMBOLS, SYMBOL_RATE, DtmbConfig
from sdrcast.phy.dtmb.decoder import ERASED_NOISE_VAR, DtmbDecoder
from sdrcast.phy.dtmb.shaping import matched_filter
from sdrcast.phy.kernels.mix import mix
from sdrcast.phy.sync import PiLoop

LONGEST_FRAME = 4725  # samples of a PN945 frame
ACQUIRE_SAMPLES = 5 * LONGEST_FRAME
LOST_AFTER = 4  # consecutive frames without a header before re-acquisition
MIN_PEAK_TO_FLOOR = 40.0  # strongest channel tap over the per-tap noise floor for a valid header
MAX_SI_ERRORS = 14  # of 36 SI bits (a wrong frame averages 18), for a frame of the signal tracked
DECODE_BATCH = 32  # frames per decoding job
MAX_PENDING_JOBS = 4  # decoding jobs queued at most (bounded memory; see ``live``)
PDP_ALPHA = 0.1  # tap-power averaging over frames (about ten)
PDP_FACTOR = 3.0  # averaged tap power over the noise floor for a tap to be kept
_CFO_GAIN = 0.5
_TIMING_GAINS = (0.05, 0.0005)  # proportional, integral (per frame): ~100-frame memory


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

    standard = "dtmb"
    no_signal = "no DTMB frame header found (PN420/595/945)"

    def __init__(self, sample_rate: float = SYMBOL_RATE, config: DtmbConfig | None = None,
                 iterations: int = 30, workers: int = 2, history: int = 2000,
                 live: bool = False):
        # other rates: SRRC matched filter down to 7.56 Msps, where everything else runs
        self.matched = matched_filter(sample_rate) if abs(sample_rate - SYMBOL_RATE) > 1 else None
        self.fs = SYMBOL_RATE
        self.acquirer = Acquirer(self.fs, config)
        self.state = SyncStateMachine()
        self.iterations, self.workers, self.live = iterations, workers, live
        self.sync: SyncResult | None = None  # the latest acquisition
        self.syncs: list[SyncResult] = []  # every acquisition, the first one first
        self.cfg: DtmbConfig | None = None
        self.decoder: DtmbDecoder | None = None
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
        self._last_taps: np.ndarray | None = None  # the last frame's, for the echo profile
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
        if self.decoder is not None and self.decoder.cfg == cfg:
            sf = stages.frames_per_superframe(cfg)
            if cfg.header_rotating:  # the superframe index counts the frames missed modulo sf:
                est = round(gap[0] / cfg.frame_symbols)  # the count nearest the time elapsed
                lost = est + (s.superframe_index - gap[1] - est + sf // 2) % sf - sf // 2
            elif abs(gap[0] - round(gap[0] / cfg.frame_symbols) * cfg.frame_symbols) < 8:
                lost = round(gap[0] / cfg.frame_symbols)  # frame grid kept: a fade, not a drop
            else:
                lost = -1  # samples were dropped: how many frames is unknown, start afresh
            if 0 <= lost < self.decoder.latency_frames:
                self._lost += lost
                self.counters["frames_lost_in_resync"] += lost
                return
        # a new decoder (the counters carry on across re-acquisitions)
        self.decoder = DtmbDecoder(cfg, iterations=self.iterations, workers=self.workers,
                                     report=self.decoder.report if self.decoder else None)

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
            cur, nxt, ref_cur, ref_next = equaliser.frame_estimates(cfg, seg, self._index)
        self._next_cir = None
        raw_next, self._last_taps = nxt, cur.taps
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
        rec.si_errors = int(np.sum(si_bits(body[si]) != tables.system_info_bits(cfg.si_index,
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
        if self.decoder is None or not (syms or self._lost or (end and self._held)):
            return
        decoder, lost = self.decoder, self._lost
        self._lost = 0
        work = ([(decoder, np.zeros((lost, DATA_SYMBOLS), np.complex64),
                  np.full((lost, DATA_SYMBOLS), ERASED_NOISE_VAR, np.float32), lost)]
                if lost else [])  # erasures first: they stand for frames before these
        if syms:
            work.append((decoder, np.stack(syms), np.stack(nvs), 0))
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

    def constellation(self) -> np.ndarray | None:
        return self.last_symbols if self.last_symbols.size else None

    def channel_profile(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The taps the last frame's PN header measured, Hann-windowed across the band (taps
        smoothed by [1/4, 1/2, 1/4]) so that a path between two taps shows no sidelobes."""
        if self._last_taps is None:
            return None
        p = np.abs(np.convolve(self._last_taps, [0.25, 0.5, 0.25])) ** 2
        p /= max(float(p.max()), 1e-30)
        return (np.arange(p.size) - np.argmax(p)) / self.fs, p.astype(np.float32)

    def close(self) -> None:
        """Stop: decoding jobs not started are cancelled, the running one is let finish."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._jobs.clear()

    def _lose(self, resume: int) -> None:
        """Sync lost: search again from ``resume`` (absolute)."""
        self.counters["sync_losses"] += 1
        self.state.to("lost", resume)
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
            cfg, self.sync = self.acquirer.acquire(self._raw[:ACQUIRE_SAMPLES])
        except SyncLost:
            drop = ACQUIRE_SAMPLES - LONGEST_FRAME
            self.counters["samples_unsynced"] += drop
            self._raw, self._base = self._raw[drop:], self._base + drop
            return self._raw.size >= ACQUIRE_SAMPLES
        self.counters["acquisitions"] += 1
        self.counters["samples_unsynced"] += self.sync.start
        self.sync.start += self._base  # absolute (7.56 Msps samples since the first pushed)
        self.syncs.append(self.sync)
        self.state.to("tracking", self.sync.start)
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

    @property
    def synced_once(self) -> bool:
        return bool(self.syncs)

    def counters_now(self) -> dict:
        """The receiver's and the decoder's counters (cheap; for status lines)."""
        rep = self.decoder.report if self.decoder is not None else None
        dec = {k: getattr(rep, k, 0) for k in ("frames_out", "frames_lost", "frames_dropped",
                                                "ldpc_failures",
                                                "bch_failures", "bch_corrected", "ts_packets_marked",
                                                "pre_ldpc_ber")}
        return {**self.counters, **dec}

    def report(self) -> dict:
        """The common receiver report (``phy.contracts.ReceiverReport``) with DTMB's details:
        sync result, configuration, per-frame log, counters and the decoder's report."""
        rep = self.decoder.report.to_dict() if self.decoder is not None else {}
        c = self.counters
        last = self.frames[-1] if self.frames else None
        mer = rep.get("mer_db") or []
        return ReceiverReport(
            self.standard, self.state.state,
            c["samples_in"], c["acquisitions"], c["sync_losses"],
            last.cfo_hz if last else None, last.sco_ppm if last else None,
            last.snr_db if last else None, float(np.mean(mer[-50:])) if mer else None,
            fec={**{k: rep.get(k, 0) for k in ("fec_blocks", "ldpc_failures", "bch_failures",
                                                 "bch_corrected", "pre_ldpc_ber")},
                 "fec_failures": rep.get("ldpc_failures", 0),
                 "ldpc_iterations": rep.get("ldpc_iterations_run", 0)},
            payload={"ts_packets_out": rep.get("frames_out", 0) * (self.decoder.cfg.ts_bytes_per_frame
                                                                    // 188 if self.decoder else 0),
                     "ts_packets_marked": rep.get("ts_packets_marked", 0),
                     "frames_dropped": rep.get("frames_dropped", 0)},
            details={"sync": asdict(self.syncs[0]) if self.syncs else None,
                     "acquisitions_log": [asdict(a) for a in self.syncs],
                     "config": self.cfg.__dict__ if self.cfg else None,
                     "frames_log": [asdict(f) for f in self.frames], **rep, **c,
                     "sync_transitions": list(self.state.transitions),
                     "mer_db_per_frame": list(mer)}).to_dict()
