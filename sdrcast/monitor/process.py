"""Each channel in a process of its own. A receiver is Python glue around numba kernels: in
one process, channels would share one interpreter lock and a station of two real-time
channels would fall behind on a machine with the cores for both. A process is also a wall: a
receiver that crashes takes its channel down, not the station (the channel is reported and
started again).

The channel's ``ChannelMonitor`` runs in a spawned child (fork is unsafe under threads, numba
and ZeroMQ). Its per-second records come back over a bounded queue; recording requests and
the stop go to it over another. A child that has ended (its file is over) keeps serving
recording requests until the station stops it, so an alarm on the last second still gets its
recording."""
from __future__ import annotations

import collections
import multiprocessing
import queue
import signal
import threading
import time

from sdrcast.monitor.channel import QUEUE_SECONDS, ChannelMonitor
from sdrcast.monitor.config import ChannelConfig

FORWARD_S = 0.1  # how often a child hands its records on
STOP_WAIT_S = 15.0  # a stopped child is killed after this long


def _forward(mon: ChannelMonitor, out, dropped: list) -> None:
    while mon.records:
        rec = mon.records.popleft()
        rec["counters"] = {"records_dropped": dropped[0] + (mon.sink.counters.get("records_dropped", 0)
                                                            if mon.sink else 0), "restarts": mon.restarts}
        try:
            out.put(rec, timeout=1.0)
        except queue.Full:  # the station stopped reading: count, do not grow
            dropped[0] += 1


def _child(ch: ChannelConfig, pre_s: float, post_s: float, pid_timeout_s: float, out, requests) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the station's to handle
    mon = ChannelMonitor(ch, pre_s, post_s, pid_timeout_s)
    mon.start()
    stop = threading.Event()

    def listen():
        while True:
            req = requests.get()
            if req is None:
                stop.set()
                return
            mon.record(*req)

    threading.Thread(target=listen, name="requests", daemon=True).start()
    dropped, told = [0], False
    while not stop.wait(FORWARD_S):
        _forward(mon, out, dropped)
        if mon.ended and not told:
            out.put({"ended": True})
            told = True
    mon.stop()
    mon.join(10)
    _forward(mon, out, dropped)
    out.put({"closed": True})


class ChannelProcess:
    """The station's handle on a channel's process: ``records`` (what arrived, oldest
    first), ``ended`` (its input is over for good), ``record(event, folder)``, ``counters``,
    ``restarts`` (input reopenings and process restarts)."""

    def __init__(self, ch: ChannelConfig, pre_s: float, post_s: float, pid_timeout_s: float = 5.0):
        self.ch, self._args = ch, (ch, pre_s, post_s, pid_timeout_s)
        self._ctx = multiprocessing.get_context("spawn")
        self._records: collections.deque = collections.deque(maxlen=QUEUE_SECONDS)
        self.ended = self._closed = self._stopping = False
        self.counters = {"records_dropped": 0, "restarts": 0}
        self.crashes = 0
        self._proc = None
        self._started = 0.0
        self._crash_told = False

    @property
    def restarts(self) -> int:
        return self.counters["restarts"] + self.crashes

    def start(self) -> None:
        self._out = self._ctx.Queue(QUEUE_SECONDS)
        self._requests = self._ctx.Queue()
        self._closed, self._crash_told, self._started = False, False, time.monotonic()
        self._proc = self._ctx.Process(target=_child, args=(*self._args, self._out, self._requests),
                                       name=f"channel-{self.ch.name}", daemon=True)
        self._proc.start()

    @property
    def records(self) -> collections.deque:
        return self.drain()

    def drain(self) -> collections.deque:
        """Take what the child handed on; notice a child that died."""
        while True:
            try:
                rec = self._out.get_nowait()
            except (queue.Empty, OSError, ValueError):
                break
            if rec.get("ended"):
                self.ended = True
            elif rec.get("closed"):
                self._closed = True
            else:
                self.counters = rec.pop("counters", self.counters)
                self._records.append(rec)
        if self._proc is not None and not self._proc.is_alive() and not self._closed and not self._stopping:
            self._crashed()
        return self._records

    def _crashed(self) -> None:
        """The child died without being stopped: an event, and the channel started again
        (``retry_s`` after its last start at the soonest)."""
        if not self._crash_told:
            self._crash_told = True
            self.crashes += 1
            self._records.append({"t": time.time(), "channel": self.ch.name, "metrics": {}, "state": {},
                                  "events": [{"t": time.time(), "kind": "input", "severity": "critical",
                                              "data": None, "message": "channel process ended (exit code "
                                              f"{self._proc.exitcode}); starting it again"}]})
        if time.monotonic() - self._started >= self.ch.retry_s:
            self.start()

    def record(self, event: dict, folder: str) -> bool:
        if self._proc is None or self._closed:
            return False
        self._requests.put((event, folder))
        return True

    def stop(self) -> None:
        self._stopping = True
        if self._proc is not None and self._proc.is_alive():
            self._requests.put(None)

    def join(self, timeout: float | None = None) -> None:
        if self._proc is None:
            return
        end = time.monotonic() + (STOP_WAIT_S if timeout is None else timeout)
        while self._proc.is_alive() and time.monotonic() < end:
            self.drain()  # so that the child's last puts do not block
            self._proc.join(0.1)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        self.drain()  # what the child handed on last
