"""The contracts every standard's transmitter and receiver keep (issue 10), so that flowgraphs,
the monitoring station and the testbed treat ATSC 3.0, DTMB and FeMBMS alike.

Transmitter: ``modulate(payload) -> iq`` for a whole input, or streaming ``push(payload) -> iq``
then ``flush() -> iq`` at the end of input (every input packet goes on air); ``sample_rate``
(Hz) and ``nominal_power`` (mean output power, for setting the output level).

Receiver: streaming ``push(iq) -> payload`` as samples arrive and ``flush() -> payload`` at the
end; ``demodulate(iq) -> (payload, report)`` for a whole recording (``SyncLost`` when no signal
was found); ``report()`` the one report shape below; ``close()`` stops decoding threads.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from dataclasses import asdict, dataclass, field

import numpy as np

from sdrcast.errors import SyncLost

SYNC_STATES = ("searching", "tracking", "lost")


@dataclass
class ReceiverReport:
    """What every receiver reports: sync state (``SYNC_STATES``), the synchronisation
    measurements, FEC and payload counters (``fec`` has at least ``fec_blocks``, the data
    code blocks decoded, and ``fec_failures``, those that failed their check); ``details``
    holds what only one standard has (configuration found, per-frame logs) and ``noise_sum``,
    the running [sum of 1/MER (linear), count] behind ``mer_db``, from which a monitor takes
    the MER of any stretch of time. ``to_dict()``
    flattens ``details`` beside the common fields."""

    standard: str
    sync_state: str = "searching"
    samples_in: int = 0
    acquisitions: int = 0
    sync_losses: int = 0
    cfo_hz: float | None = None
    sco_ppm: float | None = None
    snr_db: float | None = None
    mer_db: float | None = None
    fec: dict = field(default_factory=dict)
    payload: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.sync_state not in SYNC_STATES:
            raise ValueError(f"sync_state={self.sync_state!r}; allowed {SYNC_STATES}")

    def to_dict(self) -> dict:
        d = asdict(self)
        return {**d.pop("details"), **d}


class SyncStateMachine:
    """A receiver's acquire -> track -> lost cycle: ``searching`` until the first acquisition,
    ``tracking``, ``lost`` while re-acquiring; ``to(state, sample)`` logs each change with its
    absolute sample index (the newest ``history`` changes)."""

    def __init__(self, history: int = 100):
        self.state = "searching"
        self.transitions: deque[tuple[int, str]] = deque(maxlen=history)

    def to(self, state: str, sample: int) -> None:
        if state not in SYNC_STATES:
            raise ValueError(f"state={state!r}; allowed {SYNC_STATES}")
        if state != self.state:
            self.state = state
            self.transitions.append((int(sample), state))


def finite_samples(iq, counters: dict) -> np.ndarray:
    """Pushed samples as flat complex64, counted (``samples_in``), with NaN/Inf (garbage
    input, a broken source) erased to 0 and counted (``samples_not_finite``) rather than let
    into a receiver's FFTs and searches."""
    x = np.asarray(iq, np.complex64).reshape(-1)
    counters["samples_in"] += x.size
    bad = ~np.isfinite(x)
    if bad.any():
        counters["samples_not_finite"] += int(bad.sum())
        x = np.where(bad, np.complex64(0), x)
    return x


class Transmitter(ABC):
    """See the module doc."""

    sample_rate: float
    nominal_power: float

    @abstractmethod
    def push(self, payload) -> np.ndarray: ...

    @abstractmethod
    def flush(self) -> np.ndarray: ...

    def modulate(self, payload) -> np.ndarray:
        """A whole input, flushed: every packet on air."""
        return np.concatenate([self.push(payload), self.flush()])


class Receiver(ABC):
    """See the module doc."""

    standard: str
    no_signal = "no signal found"  # what SyncLost says when nothing was found

    @abstractmethod
    def push(self, iq: np.ndarray): ...

    @abstractmethod
    def flush(self): ...

    @abstractmethod
    def report(self) -> dict: ...

    @property
    @abstractmethod
    def synced_once(self) -> bool:
        """A signal was found at least once."""

    def close(self) -> None:  # noqa: B027 - a receiver without threads has nothing to stop
        """Stop decoding threads (nothing to stop by default)."""

    def constellation(self) -> np.ndarray | None:
        """Equalised cells of the last frame (or a sample of them) for a constellation
        display, or None."""
        return None

    def channel_profile(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The channel's echo profile as last measured: (delay in seconds from the strongest
        path, power against it), or None before a frame was equalised."""
        return None

    def demodulate(self, iq: np.ndarray):
        """A whole recording -> (payload, report)."""
        out = self.push(iq)
        rest = self.flush()
        if not self.synced_once:
            raise SyncLost(f"{self.no_signal} in the input ({np.size(iq)} samples)")
        return _join(out, rest), self.report()


def _join(a, b):
    if isinstance(a, dict):  # per-PLP payloads
        return {k: _join(a.get(k), b.get(k)) for k in {**a, **b}}
    if a is None or b is None:
        return b if a is None else a
    if isinstance(a, list):
        return a + b
    return np.concatenate([a, b])
