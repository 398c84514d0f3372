"""One watched channel: its input (opened again when it dies), the standard identified (or
given), the receiver, and every second a record of measurements (level, SNR/MER, CFO/SCO,
FEC, TS per TR 101 290 with per-PID bit rates, IP flows, the echo profile), the spectrum and
constellation, and the events of that second. The IQ of the last ``pre_s`` seconds (and one
more) is kept in a ring, so that a recording asked for by an alarm holds the ``pre_s``
seconds before the alarm as well as the ``post_s`` after.

Times are seconds since the epoch: the input's start by the wall clock plus the samples read
over the sample rate (a file decoded faster than real time runs ahead of the wall clock).
"""
from __future__ import annotations

import collections
import math
import re
import threading
import time
from pathlib import Path

import numpy as np

from sdrcast.errors import SdrcastError
from sdrcast.mac.ip import flow
from sdrcast.mac.ts.tr101290 import INDICATORS, PRIORITY, TsAnalyzer
from sdrcast.monitor.config import ChannelConfig
from sdrcast.phy.contracts import finite_samples
from sdrcast.runtime import Chunk, Flowgraph, Sink
from sdrcast.standards import STANDARDS, load, with_part

IDENTIFY_S = 1.0  # the signal handed to each standard's detector
REIDENTIFY_AFTER_S = 3.0  # lost this long: ask the detectors again (the standard may have changed)
EVENTS_PER_SECOND = 20  # TS events kept per second and channel (the rest counted)
SPECTRUM_BINS = 512
CONSTELLATION_POINTS = 600
ECHO_FLOOR_DB = -30.0  # echoes weaker than this against the strongest path are not listed
ECHO_POINTS = 400  # points of the echo profile sent to the page
FIFO_S = 0.5  # how far a modelled demodulator output FIFO may lag the receiver's output
QUEUE_SECONDS = 120  # records waiting for the station; older ones are dropped and counted


class IqRing:
    """The newest ``capacity`` samples; ``end``: how many were ever pushed."""

    def __init__(self, capacity: int):
        self.buf = np.zeros(max(capacity, 1), np.complex64)
        self.end = 0

    def push(self, x: np.ndarray) -> None:
        n, cap = x.size, self.buf.size
        if n >= cap:  # sample j lives at j modulo the capacity
            self.buf = np.roll(x[-cap:], (self.end + n) % cap)
        else:
            i = (self.end % cap)
            k = min(n, cap - i)
            self.buf[i:i + k] = x[:k]
            self.buf[:n - k] = x[k:]
        self.end += n

    def last(self, n: int | None = None) -> np.ndarray:
        """The newest ``n`` samples held (all when None), oldest first."""
        cap = self.buf.size
        n = min(self.end, cap) if n is None else min(n, self.end, cap)
        i = self.end % cap
        if n <= i:
            return self.buf[i - n:i].copy()
        return np.concatenate([self.buf[cap - (n - i):], self.buf[:i]])


def echoes(delays: np.ndarray, power: np.ndarray,
           floor_db: float = ECHO_FLOOR_DB) -> list[tuple[float, float]]:
    """The echoes of an echo profile (``Receiver.channel_profile``): its local peaks outside
    the strongest path's main lobe, over ``floor_db`` and 10 dB over the profile's median
    (the noise) -> [(delay in us from the strongest path, level in dB)], strongest first."""
    p = np.asarray(power, np.float64)
    main = int(np.argmax(p))
    lobe = main  # the main lobe: down to its first minimum on either side
    while lobe + 1 < p.size and p[lobe + 1] < p[lobe]:
        lobe += 1
    start = main
    while start > 0 and p[start - 1] < p[start]:
        start -= 1
    floor = max(10 ** (floor_db / 10), 10 * float(np.median(p)))
    peak = np.zeros(p.size, bool)
    peak[1:-1] = (p[1:-1] >= p[:-2]) & (p[1:-1] > p[2:]) & (p[1:-1] > floor)
    peak[start:lobe + 1] = False
    at = sorted(np.flatnonzero(peak), key=lambda i: -p[i])[:8]
    return [(round(float(delays[i] - delays[main]) * 1e6, 3), round(10 * math.log10(p[i] / p[main]), 2))
            for i in at]


def spectrum_dbfs(x: np.ndarray, bins: int = SPECTRUM_BINS) -> list[float]:
    """Power per bin in dBFS (the bins sum to the mean power), centred, averaged over up to 32
    Hann-windowed transforms."""
    n = x.size // bins
    if n == 0:
        return []
    seg = x[:min(n, 32) * bins].reshape(-1, bins).astype(np.complex128)
    w = np.hanning(bins)
    p = (np.abs(np.fft.fft(seg * w, axis=1)) ** 2).mean(axis=0) / (bins * np.sum(w ** 2))
    return np.round(10 * np.log10(np.fft.fftshift(p) + 1e-20), 2).tolist()


class IpFlows:
    """Packets and bytes per IPv4 flow (destination address and UDP port)."""

    def __init__(self):
        self.flows: dict[str, list[int]] = {}
        self.packets = 0

    def feed(self, packets: list[bytes]) -> None:
        for p in packets:
            try:
                key = flow(p)
            except SdrcastError:
                key = "not IPv4"
            f = self.flows.setdefault(key, [0, 0])
            f[0] += 1
            f[1] += len(p)
            self.packets += 1


class _Payloads:
    """Analysers for a receiver's output: a TS analyser per TS stream, flow counts for IP."""

    def __init__(self, pid_timeout_s: float):
        self.ts: dict[str, TsAnalyzer] = {}
        self.ip: dict[str, IpFlows] = {}
        self.pid_timeout_s = pid_timeout_s
        self.events: list = []
        self.events_dropped = 0
        self.flow: dict[str, tuple[float, int, float]] = {}  # first time, packets, last time

    def feed(self, payload, t0: float, t1: float, key: str = "ts") -> None:
        if payload is None:
            return
        if isinstance(payload, dict):  # per PLP
            for plp, p in payload.items():
                self.feed(p, t0, t1, f"plp{plp}")
            return
        if isinstance(payload, list):
            self.ip.setdefault(key, IpFlows()).feed(payload)
            return
        a = self.ts.setdefault(key, TsAnalyzer(self.pid_timeout_s))
        t0, t1, timed = self._arrival(key, len(payload) // 188, t0, t1)
        for e in a.feed(payload, t0, t1, timed):
            if len(self.events) < EVENTS_PER_SECOND:
                self.events.append((key, e))
            else:
                self.events_dropped += 1

    def _arrival(self, key: str, n: int, t0: float, t1: float) -> tuple[float, float, bool]:
        """When ``n`` packets handed out at ``t1`` left the demodulator's output buffer: a
        receiver hands out a frame (or a few) at once, irregularly; a demodulator's output
        FIFO sends them on at the stream's rate. Model that FIFO: packets follow each other at
        the stream's mean rate so far, never after ``t1`` and at most ``FIFO_S`` behind it.
        Until that rate is known (a second, 100 packets) the times are not good enough to
        judge PCR repetition (the third value False)."""
        first, count, end = self.flow.get(key, (t0, 0, t0))
        if n == 0:
            return t1, t1, True
        timed = count >= 100 and t1 - first >= 1.0
        if not timed:  # no rate yet: over the time since the last batch
            start, stop = min(end, t1), t1
        else:
            per = (t1 - first) / count
            start = min(max(end, t1 - n * per - FIFO_S), t1)
            stop = min(start + n * per, t1)
        self.flow[key] = (first, count + n, stop)
        return start, stop, timed

    def advance(self, t: float) -> None:
        for key, a in self.ts.items():
            self.events += [(key, e) for e in a.advance(t)]


class ChannelSink(Sink):
    """The channel's flowgraph end: identification, the receiver, measurements; ``records``
    (bounded) carries a dict per second of signal to the station."""

    def __init__(self, ch: ChannelConfig, rate: float, t_start: float, pre_s: float, post_s: float,
                 records: collections.deque, live: bool, pid_timeout_s: float = 5.0):
        super().__init__(f"monitor_{ch.name}", rate)
        self.ch, self.rate, self.t_start, self.live = ch, rate, t_start, live
        self.records, self.pre, self.post = records, int(pre_s * rate), int(post_s * rate)
        self.ring = IqRing(int(pre_s * rate) + int(IDENTIFY_S * rate))
        self.standard = ch.standard if ch.standard != "auto" else None
        self.rx = None
        self.samples = 0
        self.second_start = 0
        self.power = 0.0
        self.prev: dict = {}
        self.payloads = _Payloads(pid_timeout_s)
        self.pending_events: list[dict] = []
        self.requests: collections.deque = collections.deque(maxlen=4)
        self.recording: dict | None = None
        self.finished = False
        self._lock = threading.Lock()  # requests come from the station's thread
        self.lost_since: float | None = None
        self.detected: dict | None = None
        self.identified_at = 0  # the sample count at the last identification
        self.counters.update(samples_in=0, samples_not_finite=0)
        if self.standard:
            self._start_receiver(self.standard)

    # -- time --------------------------------------------------------------------------------
    def time_at(self, sample: int) -> float:
        return self.t_start + sample / self.rate

    def _event(self, kind: str, message: str, severity: str | None = None, data: dict | None = None) -> None:
        self.pending_events.append({"t": self.time_at(self.samples), "kind": kind, "message": message,
                                    "severity": severity, "data": data})

    # -- receiver ----------------------------------------------------------------------------
    def _start_receiver(self, name: str) -> None:
        if self.rx is not None:
            self.rx.close()
        std = STANDARDS[name]
        kw = {"atsc3": {"ip_plps": self.ch.ip_plps}, "dtmb": {"live": self.live}}.get(name, {})
        self.rx = load(std.receiver)(self.rate, **kw)
        self.standard, self.prev, self.lost_since = name, {}, None
        self.payloads = _Payloads(self.payloads.pid_timeout_s)

    def _identify(self) -> None:
        """Ask every standard's detector about the newest second; start (or switch to) the
        receiver of the one found."""
        iq = self.ring.last(int(IDENTIFY_S * self.rate))
        found = None
        for s in with_part("detect"):
            try:
                r = load(s.detect)(iq, self.rate)
            except SdrcastError:
                r = None
            if r is not None:
                found = r
                break
        if found is None:
            if self.standard is None or self.detected is not None:
                self._event("identify", f"no known standard in {IDENTIFY_S:g} s of signal", "minor")
            self.detected = None
            return
        name = found["standard"]
        self.detected = found
        if name != self.standard:
            what = (f"standard changed from {self.standard} to {name}" if self.standard
                    else f"{name} identified")
            self._event("identify", what, None, {k: v for k, v in found.items() if not isinstance(v, dict)})
            self._start_receiver(name)
            # the receiver starts with the second it was identified on: nothing lost to identifying
            t = self.time_at(self.samples)
            self.payloads.feed(self.rx.push(iq), t - iq.size / self.rate, t)

    # -- samples in --------------------------------------------------------------------------
    def consume(self, chunk: Chunk) -> None:
        """Samples in, cut at the second boundaries (a record is exactly one second of
        samples, whatever the input's chunks)."""
        x = finite_samples(chunk.data, self.counters)  # NaN/Inf erased (and counted)
        per = max(int(round(self.rate)), 1)
        while x.size:
            n = min(x.size, self.second_start + per - self.samples)
            self._take(x[:n])
            x = x[n:]
            if self.samples - self.second_start >= per:
                self._second()

    def _take(self, x: np.ndarray) -> None:
        t0 = self.time_at(self.samples)
        self.ring.push(x)
        self.power += float(np.vdot(x, x).real)  # one BLAS pass
        self.samples += x.size
        with self._lock:
            self._recording(x)
        if self.rx is None:
            if self.samples - self.identified_at >= IDENTIFY_S * self.rate:
                self.identified_at = self.samples
                self._identify()
        else:
            self.payloads.feed(self.rx.push(x), t0, self.time_at(self.samples))

    def finish(self) -> None:
        if self.rx is not None:
            self.payloads.feed(self.rx.flush(), self.time_at(self.samples), self.time_at(self.samples))
        if self.samples > self.second_start:
            self._second()
        with self._lock:
            self.finished = True
            self._recording(np.zeros(0, np.complex64))  # what is asked and held is written now
            if self.recording is not None:
                self._write_recording()
            self._ship_events()

    def request(self, event: dict, folder: str) -> None:
        """Record around ``event``: the ring's last ``pre_s`` seconds and the next ``post_s``
        (after the input's end, what the ring holds)."""
        with self._lock:
            self.requests.append({"event": event, "folder": folder})
            if self.finished:
                self._recording(np.zeros(0, np.complex64))
                if self.recording is not None:  # the input ended before the post_s seconds
                    self._write_recording()
                self._ship_events()

    def _ship_events(self) -> None:
        """Events after the last second (the input ended) go to the station on their own."""
        if self.pending_events:
            self.records.append({"t": self.time_at(self.samples), "channel": self.ch.name, "metrics": {},
                                 "state": {}, "events": self.pending_events})
            self.pending_events = []

    def close(self) -> None:
        if self.rx is not None:
            self.rx.close()

    # -- per second --------------------------------------------------------------------------
    def _second(self) -> None:
        n = self.samples - self.second_start
        t = self.time_at(self.samples)
        level = 10 * math.log10(self.power / n) if self.power > 0 else -200.0
        m: dict = {"level_dbfs": round(level, 2), "input_up": 1}
        if self.ch.calibration_dbm is not None:
            m["level_dbm"] = round(level + self.ch.calibration_dbm, 2)
        state = {"standard": self.standard, "sync_state": "searching", "detected": self.detected}
        if self.rx is not None:
            rep = self.rx.report()
            m.update(self._from_report(rep, state))
            if rep["sync_state"] != "tracking":
                self.lost_since = self.lost_since if self.lost_since is not None else t
                if t - self.lost_since >= REIDENTIFY_AFTER_S and self.ch.standard == "auto":
                    self.lost_since = t
                    self._identify()
            else:
                self.lost_since = None
            const = self.rx.constellation()
            if const is not None and len(const):
                step = max(1, len(const) // CONSTELLATION_POINTS)
                c = np.asarray(const[::step][:CONSTELLATION_POINTS])
                state["constellation"] = np.round(np.stack([c.real, c.imag], 1), 3).tolist()
            m.update(self._echo_profile(state))
        else:
            m["sync"] = 0
        self.payloads.advance(t)
        m.update(self._from_payloads(state))
        state["spectrum_dbfs"] = spectrum_dbfs(self.ring.last(SPECTRUM_BINS * 32))
        events = self.pending_events + [
            {"t": e.time, "kind": "tr101290", "severity": f"priority {e.priority}",
             "message": f"{key}: {e.indicator}" + (f" PID 0x{e.pid:04X}" if e.pid is not None else "")
             + f": {e.detail}", "data": {"stream": key, "indicator": e.indicator, "pid": e.pid}}
            for key, e in self.payloads.events]
        if self.payloads.events_dropped:
            events.append({"t": t, "kind": "tr101290", "severity": None, "data": None,
                           "message": f"{self.payloads.events_dropped} more TS errors this second"})
        self.payloads.events, self.payloads.events_dropped, self.pending_events = [], 0, []
        if len(self.records) == self.records.maxlen:
            self.counters.add("records_dropped")
        self.records.append({"t": t, "channel": self.ch.name, "metrics": m, "state": state, "events": events})
        self.second_start, self.power = self.samples, 0.0

    def _echo_profile(self, state: dict) -> dict:
        """This second's echo profile for the page; the strongest echo as metrics."""
        prof = self.rx.channel_profile() if self.rx.synced_once else None
        if prof is None:
            return {}
        d, p = prof
        found = echoes(d, p)
        step = max(1, -(-p.size // ECHO_POINTS))
        n = p.size // step * step
        state["echo_profile"] = {
            "delay_us": np.round(d[:n:step] * 1e6, 3).tolist(),
            "db": np.round(10 * np.log10(np.maximum(p[:n].reshape(-1, step).max(axis=1), 1e-6)), 1).tolist(),
            "echoes": found}
        return {"echo_delay_us": found[0][0], "echo_db": found[0][1]} if found else {}

    def _delta(self, key: str, value) -> float | None:
        if value is None:
            return None
        old = self.prev.get(key)
        self.prev[key] = value
        return value - old if old is not None and value >= old else (value if old is None else 0)

    def _second_mer(self, noise_sum) -> float | None:
        """The MER over the frames of the last second, from the receiver's running
        [sum of 1/MER, frames] (a receiver that started over restarts its sums)."""
        if not noise_sum:
            return None
        total, n = noise_sum
        old_total, old_n = self.prev.get("noise_sum", (0.0, 0))
        self.prev["noise_sum"] = (total, n)
        if n < old_n:
            old_total, old_n = 0.0, 0
        dn, dt = n - old_n, total - old_total
        return round(10 * math.log10(dn / dt), 3) if dn > 0 and dt > 0 else None

    def _from_report(self, rep: dict, state: dict) -> dict:
        m = {"sync": 1 if rep["sync_state"] == "tracking" else 0}
        state["sync_state"] = rep["sync_state"]
        for k in ("snr_db", "mer_db", "cfo_hz", "sco_ppm"):
            if rep.get(k) is not None:
                m[k] = round(float(rep[k]), 3)
        mer = self._second_mer(rep.get("noise_sum"))
        if mer is not None:  # this second's MER, not the receiver's average since its start
            m["mer_db"] = mer
        fec = rep.get("fec", {})
        blocks = self._delta("blocks", fec.get("fec_blocks"))
        failed = self._delta("failed", fec.get("fec_failures"))
        iters = self._delta("iterations", fec.get("ldpc_iterations"))
        if blocks is not None:
            m["fec_blocks"], m["fec_failures"] = blocks, failed or 0
            if blocks:
                m["fer"] = round((failed or 0) / blocks, 6)
                if iters is not None:
                    m["ldpc_iterations"] = round(iters / blocks, 2)
        bits, errs = self._delta("bits", rep.get("pre_ldpc_bits")), self._delta("bit_errors",
                                                                                  rep.get("pre_ldpc_bit_errors"))
        if bits:
            m["pre_fec_ber"] = (errs or 0) / bits
        lost = self._delta("frames_lost", rep.get("frames_lost"))
        if lost is not None:
            m["frames_lost"] = lost
        pay = rep.get("payload", {})
        ip_lost = self._delta("ip_lost", pay.get("lost_sn", pay.get("packets_lost")))
        if ip_lost is not None:
            m["ip_lost"] = ip_lost
        for what in ("acquisitions", "sync_losses", "configuration_changes", "l1_changed"):
            d = self._delta(what, rep.get(what))
            if d:
                self._event("signal", f"{what.replace('_', ' ')}: {d}",
                            "minor" if what == "sync_losses" else None)
        plps = rep.get("plps")
        if isinstance(plps, dict):
            state["plps"] = {str(k): {f: v.get(f) for f in ("fec_blocks", "ldpc_failures", "mer_db")
                                      if f in v} for k, v in plps.items()}
            for k, v in plps.items():
                if v.get("mer_db") is not None:
                    m[f"mer_db_plp{k}"] = round(float(v["mer_db"]), 2)
        state["configuration"] = rep.get("configuration") or rep.get("config")
        return m

    def _from_payloads(self, state: dict) -> dict:
        m: dict = {}
        ts = self.payloads.ts
        if ts:
            packets = sum(a.packets for a in ts.values())
            counts = {i: sum(a.counts[i] for a in ts.values()) for i in INDICATORS}
            d = {i: self._delta(f"tr_{i}", c) for i, c in counts.items()}
            m.update({i: v for i, v in d.items()})
            m["tr_priority1"] = sum(v for i, v in d.items() if PRIORITY[i] == 1)
            m["tr_priority2"] = sum(v for i, v in d.items() if PRIORITY[i] == 2)
            m["ts_errors"] = d["Transport_error"]
            dp = self._delta("ts_packets", packets)
            m["ts_packets"], m["ts_bitrate"] = dp, dp * 188 * 8
            state["ts"] = {k: a.summary() for k, a in ts.items()}
            # per PID bit rates over this second (TR 101 290's "PID bit rate" view)
            state["pid_bitrates"] = {k: {f"0x{pid:04X}": (self._delta(f"pid_{k}_{pid}", n) or 0) * 188 * 8
                                         for pid, n in sorted(a.pid_packets.items())} for k, a in ts.items()}
        if self.payloads.ip:
            packets = sum(f.packets for f in self.payloads.ip.values())
            m["ip_packets"] = self._delta("ip_packets", packets)
            state["ip"] = {k: {flow: {"packets": v[0], "bytes": v[1]} for flow, v in f.flows.items()}
                           for k, f in self.payloads.ip.items()}
        return m

    # -- recordings around alarms --------------------------------------------------------------
    def _recording(self, x: np.ndarray) -> None:
        """Asked recordings take ``pre_s`` before the alarm's time and ``post_s`` after it:
        what the ring still holds of the first, the rest as it comes (``x``: just pushed)."""
        while self.requests and self.recording is None:
            req = self.requests.popleft()
            held = self.ring.last()
            first, now = self.ring.end - held.size, self.ring.end - x.size
            at = int(round((req["event"]["time"] - self.t_start) * self.rate))
            start = min(max(at - self.pre, first), now)
            end = max(min(at + self.post, now), start)
            self.recording = {**req, "parts": [held[start - first:end - first]], "start": start,
                              "need": max(at + self.post - now, 0)}
        if self.recording is not None:
            r = self.recording
            r["parts"].append(x[:r["need"]])
            r["need"] -= min(x.size, r["need"])
            if r["need"] == 0:
                self._write_recording()

    def _write_recording(self) -> None:
        from sdrcast.sdr_io.files import write_samples

        r, self.recording = self.recording, None
        iq = np.concatenate(r["parts"])
        ev = r["event"]
        at = int(round((ev["time"] - self.t_start) * self.rate)) - r["start"]
        slug = re.sub(r"[^A-Za-z0-9]+", "-", ev["alarm"]).strip("-")
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(ev["time"]))
        path = Path(r["folder"]) / f"{self.ch.name}-{stamp}-{slug}.sigmf-data"
        write_samples(path, iq, self.rate, self.ch.freq, annotations=[(
            min(max(at, 0), max(iq.size - 1, 0)),
            {"core:label": ev["alarm"], "core:sample_count": 1,
             "core:comment": f"{ev['line']} at {ev['time']:.3f} s since the epoch"})])
        self.pending_events.append({"t": self.time_at(self.samples), "kind": "recording",
                                    "message": f"recorded {iq.size / self.rate:.2f} s around "
                                               f"'{ev['alarm']}': {path.name}", "severity": None,
                                    "data": {"path": str(path), "alarm": ev["alarm"], "time": ev["time"]}})


class ChannelMonitor:
    """Runs a channel: opens its input, feeds a ``ChannelSink`` in a flowgraph, and when the
    input dies reports it (``input_up`` 0 every second) and opens it again after ``retry_s``
    (files: at their end the channel ends, unless ``loop``). ``records``: the per-second dicts
    for the station; ``record(event, folder)`` asks for a recording around an alarm."""

    def __init__(self, ch: ChannelConfig, pre_s: float, post_s: float, pid_timeout_s: float = 5.0):
        self.ch, self.pre_s, self.post_s, self.pid_timeout_s = ch, pre_s, post_s, pid_timeout_s
        self.records: collections.deque = collections.deque(maxlen=QUEUE_SECONDS)
        self.sink: ChannelSink | None = None
        self.graph: Flowgraph | None = None
        self.source = None
        self.ended = False
        self.restarts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"channel-{ch.name}", daemon=True)

    @property
    def live(self) -> bool:
        from sdrcast.flowgraphs.common import is_live

        return is_live(self.ch.input)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.graph is not None:
            self.graph.stop()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def record(self, event: dict, folder: str) -> bool:
        if self.sink is None:
            return False
        self.sink.request(event, folder)
        return True

    def _down(self, message: str) -> None:
        self.records.append({"t": time.time(), "channel": self.ch.name, "metrics": {"input_up": 0, "sync": 0},
                             "state": {"standard": self.sink.standard if self.sink else None,
                                       "sync_state": "lost", "input": message},
                             "events": []})

    def _open(self):
        from sdrcast.flowgraphs.common import parse_gain
        from sdrcast.runtime import Throttle
        from sdrcast.sdr_io import open_source

        ch = self.ch
        src = open_source(ch.input, fmt=ch.format, sample_rate=ch.rate, freq=ch.freq,
                          gain=parse_gain(ch.gain), timeout=ch.retry_s if self.live else None,
                          repeat=ch.loop and not self.live)  # one continuous signal, one receiver
        rate = ch.rate or src.sample_rate
        if not rate:
            raise SdrcastError(f"channels[{ch.name}].rate: the input does not say its sample rate; give rate")
        blocks = [src] + ([Throttle(rate)] if ch.realtime and not self.live else [])
        return src, blocks, rate

    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                src, blocks, rate = self._open()
            except SdrcastError as exc:
                self._fail(str(exc), first)
                first = False
                continue
            self.source = src
            self.sink = ChannelSink(self.ch, rate, time.time(), self.pre_s, self.post_s, self.records,
                                    self.live, self.pid_timeout_s)
            if not first:
                self.sink._event("input", f"input {self.ch.input} open again", None)
            self.graph = Flowgraph(queue_depth=8)
            self.graph.connect(*blocks, self.sink)
            try:
                self.graph.run()
                error = None
            except SdrcastError as exc:
                error = str(exc)
            first = False
            if self._stop.is_set():
                break
            if not self.live and (error is None or not self.ch.loop):  # a file's end (a looped
                if error is not None:  # one has none) or failure; a looped one is tried again
                    self._fail(error, True)
                self.ended = True
                break
            self.restarts += 1
            self._fail(error or f"input {self.ch.input} ended", False)

    def _fail(self, message: str, first: bool) -> None:
        """The input could not be opened or died: an event, then ``input_up`` 0 each second
        until it is tried again."""
        self.records.append({"t": time.time(), "channel": self.ch.name, "metrics": {},
                             "state": {}, "events": [{"t": time.time(), "kind": "input", "severity": "major",
                                                      "message": f"input failed: {message}", "data": None}]})
        if not self.live and not self.ch.loop and first:
            self.ended = True
            self._stop.set()
            return
        deadline = time.monotonic() + self.ch.retry_s
        while not self._stop.is_set() and time.monotonic() < deadline:
            self._down(message)
            self._stop.wait(min(1.0, max(deadline - time.monotonic(), 0)))
