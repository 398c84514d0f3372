"""Alarm rules over the per-second metrics: raised after a metric stays past its threshold for
the hold time, cleared after it stays back by the hysteresis for the clear time; each change
is an ``AlarmEvent`` (to the log, the database, the web page and the webhook)."""
from __future__ import annotations

import json
import threading
import urllib.request
from dataclasses import asdict, dataclass

from sdrcast.monitor.config import AlarmRule

INTERVAL_S = 1.0  # each metric value covers the second before its time


@dataclass(frozen=True)
class AlarmEvent:
    """An alarm raised or cleared: when (s since the epoch), on which channel, by which rule."""

    time: float
    channel: str
    alarm: str
    metric: str
    severity: str
    state: str  # "raised" or "cleared"
    value: float
    threshold: float

    def to_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        return (f"{self.channel}: {self.severity} alarm {self.state}: {self.alarm} "
                f"({self.metric} {self.value:.4g}, threshold {self.threshold:g})")


class _State:
    __slots__ = ("active", "bad_since", "good_since")

    def __init__(self):
        self.active, self.bad_since, self.good_since = False, None, None


class AlarmEngine:
    """``update(channel, t, metrics)`` -> the alarm events this second's metrics cause;
    ``active`` lists the raised alarms."""

    def __init__(self, rules: tuple[AlarmRule, ...]):
        self.rules = rules
        self._state: dict[tuple[str, int], _State] = {}

    def update(self, channel: str, t: float, metrics: dict) -> list[AlarmEvent]:
        out = []
        for k, rule in enumerate(self.rules):
            if rule.channels and channel not in rule.channels:
                continue
            value = metrics.get(rule.metric)
            if value is None:
                continue  # not measured this second: the state holds
            st = self._state.setdefault((channel, k), _State())
            start = t - INTERVAL_S
            if rule.below is not None:
                bad, good, threshold = value < rule.below, value >= rule.below + rule.hysteresis, rule.below
            else:
                bad, good, threshold = value > rule.above, value <= rule.above - rule.hysteresis, rule.above
            st.bad_since = (st.bad_since if st.bad_since is not None else start) if bad else None
            st.good_since = (st.good_since if st.good_since is not None else start) if good else None
            clear_s = rule.hold_s if rule.clear_s is None else rule.clear_s
            if not st.active and bad and t - st.bad_since >= rule.hold_s:
                st.active = True
                out.append(AlarmEvent(t, channel, rule.label, rule.metric, rule.severity, "raised",
                                      float(value), threshold))
            elif st.active and good and t - st.good_since >= clear_s:
                st.active = False
                out.append(AlarmEvent(t, channel, rule.label, rule.metric, rule.severity, "cleared",
                                      float(value), threshold))
        return out

    def active(self) -> list[tuple[str, str, str]]:
        """(channel, alarm, severity) of every raised alarm."""
        return [(ch, self.rules[k].label, self.rules[k].severity)
                for (ch, k), st in self._state.items() if st.active]


class Webhook:
    """POSTs each event as JSON to ``url`` from a background thread (a slow or dead receiver
    never stalls the station); failures are counted, the newest kept as ``last_error``."""

    def __init__(self, url: str, timeout: float = 5.0):
        self.url, self.timeout = url, timeout
        self.sent = self.failed = 0
        self.last_error: str | None = None

    def post(self, event: AlarmEvent, station: str) -> None:
        body = json.dumps({"station": station, **event.to_dict()}).encode()
        threading.Thread(target=self._send, args=(body,), daemon=True).start()

    def _send(self, body: bytes) -> None:
        req = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout):
                self.sent += 1
        except OSError as exc:
            self.failed += 1
            self.last_error = str(exc)
