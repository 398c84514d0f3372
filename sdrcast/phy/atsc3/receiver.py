"""ATSC 3.0 field receiver: samples streamed in at any rate, frames found, tracked and decoded
as they complete, with bounded memory (A/321 bootstrap, A/322 frames).

Every frame starts with a bootstrap, so the receiver synchronises frame by frame:

1. **Searching**: ``sync`` acquisition on windows of the buffered samples (frame start and
   carrier offset from nothing); the bootstrap's fields, L1-Basic and L1-Detail give the
   configuration (``demodulator.read_configuration``). A signal whose bootstrap says another
   sample rate than the one worked at is resampled to it from then on.
2. **Tracking**: each frame is decoded (``Atsc3Demodulator.frame``) once the samples up to the
   next frame's bootstrap are in; that bootstrap, looked for around where the frame length
   puts it (``sync.track``), gives the next start to a fraction of a sample and the residual
   carrier offset (first-order loop). The start-to-start distance measures the sample clock
   offset; once it drifts the frame by more than ``SCO_SAMPLES``, frames are read through a
   windowed-sinc interpolator at the measured rate.
3. **Lost**: a bootstrap missing where expected, or a frame whose bootstrap or L1 says
   another configuration, sends the receiver back to searching from there; PLPs restart
   (a CTI PLP rejoins from L1) and the frames skipped are counted (``frames_lost``, the
   distance between the expected and the found frame start, for an unchanged configuration).

Sample indices in the report count samples at the signal's rate since the first pushed.
"""
from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from sdrcast.errors import ConfigError, SdrcastError, SyncLost
from sdrcast.phy.atsc3.bootstrap import N_FFT, SAMPLE_RATE, SYMBOL_SAMPLES
from sdrcast.phy.atsc3.config import Atsc3Config
from sdrcast.phy.atsc3.demodulator import Atsc3Demodulator, read_configuration, with_inputs
from sdrcast.phy.atsc3.ofdm import decode_bootstrap_at, is_atsc3_rate
from sdrcast.phy.atsc3.ofdm import sample_rate as atsc3_rate
from sdrcast.phy.atsc3.sync import _candidate, track
from sdrcast.phy.contracts import Receiver, ReceiverReport, SyncStateMachine, finite_samples
from sdrcast.phy.kernels.fractional import fractional_interpolate
from sdrcast.phy.kernels.mix import mix
from sdrcast.phy.resample import Resampler, sinc_table
from sdrcast.phy.sample_buffer import SampleBuffer

SEARCH_WINDOW = 1 << 18  # samples looked through per acquisition attempt
CONFIG_SECONDS = 0.3  # signal read before the configuration is taken from L1
TRACK_SEARCH = 48  # samples either side of the predicted bootstrap start
MIN_QUALITY = 0.3  # normalised bootstrap match for a frame start
SCO_SAMPLES = 1.0  # clock drift over a frame from which frames are interpolated
MAX_SCO_PPM = 100  # sample clock offsets followed from the first frame
SCO_ALPHA = 0.3  # smoothing of the per-frame clock measurement
CFO_GAIN = 0.5
INTERPOLATOR_HALF = 16  # windowed-sinc taps either side
MAX_PENDING = 2  # frames decoding behind the one being demodulated
PLP_SUMS = ("fec_blocks", "ldpc_failures", "outer_failures", "ldpc_iterations", "packets_lost",
            "pre_ldpc_bits", "pre_ldpc_bit_errors")


def _static(boot) -> tuple:
    """What of a bootstrap describes the frame (not the wake-up bits or the time to the next)."""
    return boot.system_bandwidth, boot.bsr_coefficient, boot.preamble_structure


class Atsc3Receiver(Receiver):
    """``push(iq)`` -> ``{plp_id: TS bytes or [IPv4 datagrams]}`` of the frames completed;
    ``flush()`` decodes what is left; ``report()`` the common receiver report (see the module
    doc). ``cfg``: decode with this configuration instead of the one L1 signals; ``ip_plps``:
    PLPs whose ALP carries IPv4 (not signalled in L1); ``plps``: the PLP ids decoded (None:
    all, ``"first"``: the lowest the configuration has)."""

    standard = "atsc3"
    no_signal = "no ATSC 3.0 bootstrap found"

    def __init__(self, sample_rate: float = 6.912e6, cfg: Atsc3Config | None = None,
                 max_cfo_hz: float = 50e3, workers: int = 2, ip_plps=(), plps=None):
        if not sample_rate > 0:
            raise ConfigError(f"sample_rate={sample_rate}: must be > 0 Hz")
        self.input_rate, self.cfg, self.max_cfo_hz = float(sample_rate), cfg, max_cfo_hz
        self.workers, self.ip_plps = workers, tuple(ip_plps)
        self.plps = plps if plps in (None, "first") else frozenset(plps)
        self._set_rate(self.input_rate if is_atsc3_rate(self.input_rate) else 6.912e6)
        self.sync = SyncStateMachine()
        self.demod: Atsc3Demodulator | None = None
        self.locked = False  # self.s is a frame start of the configuration being decoded
        self.s: float | None = None  # the next frame's start (absolute, signal-rate samples)
        self._expected: float | None = None  # where the frame missed would have started
        self._measured = False  # the clock offset has been measured since acquisition
        self.cfo_hz, self.sco_ppm = 0.0, 0.0
        self._boot = None
        self._inputs: dict[int, str] = {}
        self._table = sinc_table(INTERPOLATOR_HALF)
        self._retired = dict.fromkeys(PLP_SUMS, 0)  # counters of configurations left behind
        self.counters = {"samples_in": 0, "acquisitions": 0, "sync_losses": 0, "frames": 0,
                         "frames_lost": 0, "configuration_changes": 0, "rate_changes": 0,
                         "false_acquisitions": 0, "frames_cut": 0, "samples_not_finite": 0}
        self.first_start: int | None = None
        # frames decoded (deinterleaving, demapping, FEC) on a thread while the next frame's
        # OFDM and channel estimation run here; in frame order
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="atsc3-decode")
        self._pending: deque[Future] = deque()
        self._ready: dict[int, list] = {}

    def _set_rate(self, rate: float) -> None:
        self.rate = rate
        self.resampler = None if rate == self.input_rate else Resampler.from_rates(self.input_rate, rate)
        self.buf = SampleBuffer()
        r = rate / SAMPLE_RATE
        self._sym = round(SYMBOL_SAMPLES * r)
        self._boot_len = 4 * self._sym + round(N_FFT * r)

    @property
    def synced_once(self) -> bool:
        return self.counters["acquisitions"] > 0

    def push(self, iq: np.ndarray) -> dict:
        x = finite_samples(iq, self.counters)
        if self.resampler is not None:
            x = self.resampler(x)
        self.buf.append(x)
        return self._work(final=False)

    def flush(self) -> dict:
        return self._work(final=True)

    def _work(self, final: bool) -> dict:
        while True:
            if not self.locked:
                if not self._acquire(final):
                    break
                continue
            frame = self._frame_samples(final)
            if frame is None:
                break
            front = self.demod.front(frame, intact=self._found is not False)
            if front[2] == "changed":  # L1 says another configuration: read it from this frame
                self._lose(self.s, changed=True)
                continue
            self.counters["frames"] += 1
            self._pending.append(self._pool.submit(self.demod.back, front))
            while len(self._pending) > MAX_PENDING:
                self._take()
            self._next()
        while self._pending and (final or self._pending[0].done()):
            self._take()
        out, self._ready = self._ready, {}
        return {i: (np.concatenate(v) if v else np.zeros(0, np.uint8)) if self._inputs[i] == "ts"
                else v for i, v in out.items()}

    def _take(self) -> None:
        """The oldest frame's decoding: wait for it, keep its payload."""
        for i, v in self._pending.popleft().result().items():
            self._ready.setdefault(i, []).extend(v)

    def channel_profile(self) -> tuple[np.ndarray, np.ndarray] | None:
        return self.demod.channel_profile() if self.demod is not None else None

    def constellation(self) -> np.ndarray | None:
        """A sample of the first decoded PLP's equalised cells in the last frame."""
        cells = [d.last_cells for d in (self.demod.plps.values() if self.demod else ()) if d.last_cells.size]
        return cells[0] if cells else None

    def close(self) -> None:
        while self._pending:
            self._take()
        self._pool.shutdown()

    # -- searching -----------------------------------------------------------------------

    def _search(self, final: bool) -> bool:
        """A bootstrap in the buffer (``self.s``, ``self.cfo_hz``); False: more samples needed."""
        while True:
            held = self.buf.end - self.buf.start
            if held < SEARCH_WINDOW + self._boot_len and not (final and held >= self._boot_len):
                return False
            seg = self.buf.view[:SEARCH_WINDOW + self._boot_len]
            found = _candidate(seg, self.rate, self.max_cfo_hz, TRACK_SEARCH)
            if found is not None and found.quality >= MIN_QUALITY \
                    and found.start + self._boot_len <= seg.size:
                self.s, self.cfo_hz = float(self.buf.start + found.start), found.cfo_hz
                return True
            self.buf.drop_before(self.buf.start + (SEARCH_WINDOW if held > SEARCH_WINDOW + self._boot_len
                                                   else held))

    def _acquire(self, final: bool) -> bool:
        """Searching: a bootstrap found, the configuration read there. False when more
        samples are needed."""
        if self.s is None and not self._search(final):
            return False
        s = int(round(self.s))
        need = s + round(CONFIG_SECONDS * self.rate)
        if self.buf.end < need and not final:
            return False
        self.buf.drop_before(s)
        y = mix(np.ascontiguousarray(self.buf.view[:need - s]), 0.0, -self.cfo_hz / self.rate)
        try:
            boot = decode_bootstrap_at(y, self.rate)
            rate = atsc3_rate(boot.bsr_coefficient)
            if rate != self.rate:  # the signal's own rate: resample to it, search again
                self.counters["rate_changes"] += 1
                self._set_rate(rate)
                self.s = None
                return True
            cfg = self.cfg or with_inputs(read_configuration(y, self.rate), self.ip_plps)
        except SdrcastError:
            self.counters["false_acquisitions"] += 1  # a bootstrap-like match, but no frame
            self.s = None
            self.buf.drop_before(s + self._sym)
            return True
        while self._pending:  # the decoders are restarted or replaced: let them finish
            self._take()
        if self.demod is not None and self.demod.cfg == cfg:
            missed = 0
            if self._expected is not None:  # the same signal again: the frames missed
                f = self.demod.ref.frame_samples_count * (1 + self.sco_ppm * 1e-6)
                missed = max(0, round((self.s - self._expected) / f))
                self.counters["frames_lost"] += missed
            self.demod.restart(missed)
        else:
            if self.demod is not None:
                self.counters["configuration_changes"] += 1
                self._retire()
            only = self.plps if self.plps != "first" else \
                [min(p.plp_id for s in cfg.subframes for p in s.plps)]
            self.demod = Atsc3Demodulator(cfg, self.workers, signature_from_signal=self.cfg is None,
                                          only=only)
            self._inputs.update({i: d.cfg.input for i, d in self.demod.plps.items()})
        self._boot, self._expected, self._measured, self.locked = boot, None, False, True
        self.counters["acquisitions"] += 1
        if self.first_start is None:
            self.first_start = s
        self.sync.to("tracking", s)
        return True

    def _retire(self) -> None:
        for p in self.demod.summary()["plps"].values():
            for k in PLP_SUMS:
                self._retired[k] += p.get(k, 0)

    def _lose(self, at: float, changed: bool = False) -> None:
        """No frame of this configuration at ``at``: search from there (``changed``: read
        the configuration at ``at``, where a frame says it changed)."""
        self.locked = False
        if changed:
            self.s, self._expected = float(at), None
            return
        self.counters["sync_losses"] += 1
        self.sync.to("lost", int(at))
        self.s, self._expected = None, float(at)
        self.buf.drop_before(int(at) - TRACK_SEARCH)

    # -- tracking ------------------------------------------------------------------------

    def _search_width(self) -> int:
        """Samples either side of the predicted next bootstrap: wider until the clock offset
        has been measured (up to ``MAX_SCO_PPM`` over a frame)."""
        f = self.demod.ref.frame_samples_count
        return TRACK_SEARCH + (0 if self._measured else int(MAX_SCO_PPM * 1e-6 * f))

    def _frame_samples(self, final: bool) -> np.ndarray | None:
        """The frame at ``self.s`` (carrier offset removed, clock offset interpolated out),
        once the samples to the next bootstrap's end are in; None: more samples needed. The
        next bootstrap is found first (``_track``), so the frame is read at the rate its own
        two ends give."""
        f = self.demod.ref.frame_samples_count
        w = self._search_width()
        expected = self.s + f * (1 + self.sco_ppm * 1e-6)
        need = int(expected) + w + 4 * self._sym + INTERPOLATOR_HALF
        if self.buf.end < need and not (final and self.buf.end >= round(expected)):
            if final:  # the input ended inside this frame: not decoded, counted
                self.counters["frames_cut"] += 1
                self.buf.drop_before(self.buf.end)
                self.locked, self.s = False, None
            return None
        ended = self.buf.end < int(expected) + w + 4 * self._sym  # no next bootstrap to look for
        nxt = None if ended else self._track(expected, w)
        span = (nxt - self.s) if nxt is not None else expected - self.s
        if abs(span - f) > SCO_SAMPLES:
            x, _ = fractional_interpolate(self.buf.view, self.buf.start, self.s, span / f,
                                          self._table, INTERPOLATOR_HALF, self.buf.end - self.buf.start)
            x = np.concatenate([x[:f], np.zeros(max(0, f - x.size), np.complex64)])  # the input's end
        else:
            a = int(round(self.s)) - self.buf.start
            x = self.buf.view[a:a + f]
        self._following = nxt if nxt is not None else expected
        self._found = None if ended else nxt is not None
        return mix(np.ascontiguousarray(x), 0.0, -self.cfo_hz / self.rate)

    def _track(self, expected: float, w: int) -> float | None:
        """The bootstrap near ``expected``: its start (the clock offset and residual carrier
        offset measured from it), None if it is not there or says another frame structure."""
        f = self.demod.ref.frame_samples_count
        a = int(np.floor(expected)) - w
        try:
            t = track(self.buf.view[a - self.buf.start:], self.rate, self.cfo_hz, w)
        except SyncLost:
            return None
        if t.quality < MIN_QUALITY:
            return None
        start = a + t.start
        ppm = ((start - self.s) / f - 1) * 1e6
        self.sco_ppm = ppm if not self._measured else self.sco_ppm + SCO_ALPHA * (ppm - self.sco_ppm)
        self._measured = True
        self.cfo_hz += CFO_GAIN * t.residual_hz
        b = int(round(start)) - self.buf.start
        y = mix(np.ascontiguousarray(self.buf.view[b:b + 4 * self._sym]), 0.0, -self.cfo_hz / self.rate)
        try:
            self._next_same = _static(decode_bootstrap_at(y, self.rate)) == _static(self._boot)
        except SdrcastError:
            self._next_same = True  # a bootstrap too weak to read its fields: L1 decides
        return start

    def _next(self) -> None:
        """On to the bootstrap found after the frame decoded: lost if none was, a new
        configuration read there if it says another frame structure."""
        at = self._following
        if self._found is None:  # the input ended with this frame
            self.locked, self.s = False, None
            self.buf.drop_before(self.buf.end)
            return
        if not self._found:
            self._lose(at)
            return
        self.s = at
        self.buf.drop_before(int(at) - INTERPOLATOR_HALF - 2)
        if not self._next_same:
            self._lose(at, changed=True)

    def report(self) -> dict:
        summary = self.demod.summary() if self.demod is not None else {"plps": {}}
        plps = summary["plps"]
        total = {k: self._retired[k] + sum(p.get(k, 0) for p in plps.values()) for k in PLP_SUMS}
        details = {**self.counters, "start": self.first_start, "sample_rate": self.rate,
                   "configuration": self.demod.cfg if self.demod is not None else None,
                   **{k: v for k, v in summary.items() if k not in ("frames", "mer_db")},
                   "last_mer_db": self.demod.last_mer_db if self.demod is not None else None,
                   **{k: total[k] for k in ("pre_ldpc_bits", "pre_ldpc_bit_errors")},
                   "transitions": list(self.sync.transitions)}
        return ReceiverReport(
            self.standard, self.sync.state, self.counters["samples_in"], self.counters["acquisitions"],
            self.counters["sync_losses"], self.cfo_hz if self.synced_once else None,
            self.sco_ppm if self._measured else None, None, summary.get("mer_db"),
            fec={**{k: total[k] for k in PLP_SUMS[:4]}, "fec_failures": total["ldpc_failures"]},
            payload={"packets_lost": total["packets_lost"]},
            details=details).to_dict()


def warm_up() -> None:
    """Run the receiver once on a short signal of its own, so that numba loads (or compiles)
    every kernel now: the first frames otherwise take seconds, and a radio overflows
    meanwhile."""
    from sdrcast.mac.ts import sample_stream
    from sdrcast.phy.atsc3.transmitter import Atsc3Transmitter

    tx = Atsc3Transmitter(Atsc3Config.preset("vector_s09"))
    iq = tx.modulate(sample_stream(200))
    rx = Atsc3Receiver(tx.sample_rate)
    rx.demodulate(iq)
    rx.close()
