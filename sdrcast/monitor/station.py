"""The monitoring station: its channels, each second's records through the alarm rules into
SQLite, the Prometheus metrics, the webhook and the web page's live state; recordings around
every alarm (issue 14)."""
from __future__ import annotations

import math
import sys
import threading
import time
from collections import deque
from pathlib import Path

from sdrcast.monitor.alarms import AlarmEngine, AlarmEvent, Webhook
from sdrcast.monitor.config import StationConfig
from sdrcast.monitor.process import ChannelProcess
from sdrcast.monitor.store import Store

MAINTAIN_EVERY_S = 600.0
HISTORY_S = 3600  # the live view's graphs: the last hour, per channel, in memory
GRAPHED = ("mer_db", "snr_db", "fer", "level_dbfs")


class Prometheus:
    """The station's metrics for Prometheus: a gauge per metric (``sdrcast_<metric>``, label
    ``channel``), TR 101 290 error counters, raised alarms."""

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge

        self.registry = CollectorRegistry()
        self._Gauge = Gauge
        self.gauges: dict[str, object] = {}
        self.tr = Counter("sdrcast_tr101290_errors", "TR 101 290 errors", ["channel", "indicator"],
                          registry=self.registry)
        self.alarms = Gauge("sdrcast_alarm_active", "1 while an alarm is raised",
                            ["channel", "alarm", "severity"], registry=self.registry)
        self.seconds = Counter("sdrcast_seconds_measured", "seconds of signal measured", ["channel"],
                               registry=self.registry)

    def update(self, channel: str, metrics: dict) -> None:
        from sdrcast.mac.ts.tr101290 import INDICATORS

        self.seconds.labels(channel).inc()
        for k, v in metrics.items():
            if v is None:
                continue
            if k in INDICATORS:
                if v:
                    self.tr.labels(channel, k).inc(v)
                continue
            g = self.gauges.get(k)
            if g is None:
                g = self.gauges[k] = self._Gauge(f"sdrcast_{k.lower()}", f"{k}, each second", ["channel"],
                                                 registry=self.registry)
            g.labels(channel).set(v)
        for k, g in self.gauges.items():  # not measured this second: no value, not a stale one
            if metrics.get(k) is None and k not in INDICATORS:
                g.labels(channel).set(math.nan)

    def alarm(self, e: AlarmEvent) -> None:
        self.alarms.labels(e.channel, e.alarm, e.severity).set(1 if e.state == "raised" else 0)

    def text(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


class Station:
    """``run()`` until ``duration`` passed, every input ended (and ``hold``, if given, is
    set: the page stays up meanwhile), or ``stop()``; the web page (when ``http`` is set)
    runs beside it. ``state()`` is what the page shows."""

    def __init__(self, cfg: StationConfig, out=sys.stderr, pid_timeout_s: float = 5.0,
                 hold: threading.Event | None = None):
        self.cfg, self.out, self.hold = cfg, out, hold
        self.store = Store(cfg.database, cfg.retention_days, cfg.downsample_after_h)
        self.engine = AlarmEngine(cfg.alarms)
        self.prom = Prometheus()
        self.webhook = Webhook(cfg.webhook) if cfg.webhook else None
        Path(cfg.recordings).mkdir(parents=True, exist_ok=True)
        self.channels = {c.name: ChannelProcess(c, cfg.pre_s, cfg.post_s, pid_timeout_s)
                         for c in cfg.channels}
        self.latest: dict[str, dict] = {}
        self.history = {c: {k: deque(maxlen=HISTORY_S) for k in GRAPHED} for c in self.channels}
        self.events: deque = deque(maxlen=200)
        self.recordings_made = self.alarms_raised = 0
        self.recordings_skipped = 0
        self.seconds = dict.fromkeys(self.channels, 0)
        self.web = None
        self._stop = threading.Event()
        self.lock = threading.Lock()

    # -- running -----------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def run(self) -> dict:
        if self.cfg.http:
            from sdrcast.monitor.web import WebServer

            self.web = WebServer(self, self.cfg.http)
            self.web.start()
            self._say(f"web page http://{self.web.address}/ , metrics http://{self.web.address}/metrics")
        for ch in self.channels.values():
            ch.start()
        t0 = time.monotonic()
        next_maintain = t0 + MAINTAIN_EVERY_S
        try:
            while not self._stop.is_set():
                self.poll()
                if self.cfg.duration is not None and time.monotonic() - t0 >= self.cfg.duration:
                    break
                chans = self.channels.values()
                if all(c.ended for c in chans) and not any(c.records for c in chans):
                    if self.hold is None or self.hold.is_set():
                        break
                if time.monotonic() >= next_maintain:
                    self.store.maintain()
                    next_maintain += MAINTAIN_EVERY_S
                self._stop.wait(0.2)
        finally:
            for ch in self.channels.values():
                ch.stop()
            for ch in self.channels.values():
                ch.join(10)
            self.poll()
            if self.web is not None:
                self.web.stop()
        return self.summary()

    def poll(self) -> None:
        """Everything the channels measured since the last call: alarms, storage, metrics."""
        for name, ch in self.channels.items():
            while ch.records:
                self._take(name, ch, ch.records.popleft())

    def _take(self, name: str, ch: ChannelProcess, rec: dict) -> None:
        t, m = rec["t"], rec["metrics"]
        for e in rec["events"]:
            self._log_event(e["t"], name, e["kind"], e["message"], e.get("severity"), e.get("data"))
        if not m:
            return
        self.seconds[name] += 1
        self.store.add_metrics(name, t, m)
        self.prom.update(name, m)
        with self.lock:
            self.latest[name] = rec
            for k in GRAPHED:
                if m.get(k) is not None:
                    self.history[name][k].append((round(t, 3), m[k]))
        for a in self.engine.update(name, t, m):
            self._alarm(ch, a)

    def _alarm(self, ch: ChannelProcess, a: AlarmEvent) -> None:
        self._log_event(a.time, a.channel, "alarm", a.line(), a.severity, a.to_dict())
        self.alarms_raised += a.state == "raised"
        self.prom.alarm(a)
        if self.webhook is not None:
            self.webhook.post(a, self.cfg.name)
        if a.state == "raised":
            if self.recordings_made < self.cfg.max_recordings and \
                    ch.record({**a.to_dict(), "line": a.line()}, self.cfg.recordings):
                self.recordings_made += 1
            else:
                self.recordings_skipped += 1

    def _log_event(self, t, channel, kind, message, severity=None, data=None) -> None:
        self.store.add_event(t, channel, kind, message, severity, data)
        if kind == "recording" and data:
            self.store.add_recording(t, channel, data["alarm"], data["path"])
        with self.lock:
            self.events.appendleft({"t": t, "channel": channel, "kind": kind, "severity": severity,
                                    "message": message, "data": data})
        if kind in ("alarm", "input", "identify", "recording"):
            self._say(f"{time.strftime('%H:%M:%S', time.localtime(t))} {message}")

    def _say(self, line: str) -> None:
        print(f"monitor: {line}", file=self.out, flush=True)

    # -- what the page and the summary show ------------------------------------------------------
    def state(self) -> dict:
        with self.lock:
            channels = {}
            for name, ch in self.channels.items():
                rec = self.latest.get(name, {})
                channels[name] = {"input": ch.ch.input, "standard": rec.get("state", {}).get("standard"),
                                  "t": rec.get("t"), "metrics": rec.get("metrics", {}),
                                  "state": rec.get("state", {}), "ended": ch.ended,
                                  "history": {k: list(v) for k, v in self.history[name].items()}}
            return {"station": self.cfg.name, "time": time.time(), "channels": channels,
                    "alarms": [{"channel": c, "alarm": a, "severity": s} for c, a, s in self.engine.active()],
                    "events": list(self.events)[:100], "recordings": self.store.recordings(20)}

    def summary(self) -> dict:
        return {"seconds": dict(self.seconds),
                "alarms_raised": self.alarms_raised,
                "recordings": self.recordings_made, "recordings_skipped": self.recordings_skipped,
                "records_dropped": {n: c.counters["records_dropped"] for n, c in self.channels.items()},
                "restarts": {n: c.restarts for n, c in self.channels.items()}}
