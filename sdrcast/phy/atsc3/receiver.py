"""ATSC 3.0 reception of a capture: acquisition on the first bootstrap (``sync.acquire``:
frame start and carrier offset), the offset taken out, the configuration read from the
bootstrap and L1 (unless given), then the frames demodulated (``Atsc3Demodulator``; each
symbol's channel from its pilots). Frames must follow each other without a sample clock
offset.

``Atsc3Receiver`` keeps the receiver contract (``phy.contracts``) over ``receive``: it reads
whole captures for now (``push`` collects, ``flush`` receives); streaming, tracking and
joining mid-stream are the ATSC 3.0 field-receiver issue's."""
from __future__ import annotations

import numpy as np

from sdrcast.phy.atsc3.config import Atsc3Config
from sdrcast.phy.atsc3.demodulator import Atsc3Demodulator
from sdrcast.phy.atsc3.sync import acquire
from sdrcast.phy.contracts import Receiver, ReceiverReport
from sdrcast.phy.kernels.mix import mix


def receive(iq: np.ndarray, sample_rate: float = 6.912e6, cfg: Atsc3Config | None = None,
            max_cfo_hz: float = 50e3, workers: int = 2, ip_plps=()) -> tuple[dict, dict]:
    """A capture -> ({plp_id: TS bytes or [IPv4 datagrams]}, report with the acquisition, the
    configuration used (``configuration``) and the demodulator's counters). Without ``cfg``
    the configuration is read from the signal, PLPs in ``ip_plps`` taken as IPv4."""
    acq = acquire(iq, sample_rate, max_cfo_hz)
    y = mix(np.asarray(iq[acq.start:], np.complex64), 0.0, -acq.cfo_hz / sample_rate)
    demod = Atsc3Demodulator(cfg, workers) if cfg else \
        Atsc3Demodulator.from_signal(y, sample_rate, ip_plps, workers=workers)
    payload, report = demod.demodulate(y)
    report.update(start=acq.start, cfo_hz=float(acq.cfo_hz), acquisition_quality=acq.quality,
                  configuration_read=cfg is None, configuration=demod.cfg)
    return payload, report


class Atsc3Receiver(Receiver):
    """``push(iq)`` collects samples, ``flush()`` receives them all and returns ``{plp_id: TS
    bytes or [IPv4 datagrams]}``; ``report()`` is the common receiver report with the
    acquisition, configuration and per-PLP counters as details."""

    standard = "atsc3"
    no_signal = "no ATSC 3.0 bootstrap found"

    def __init__(self, sample_rate: float = 6.912e6, cfg: Atsc3Config | None = None,
                 max_cfo_hz: float = 50e3, workers: int = 2, ip_plps=()):
        self.sample_rate, self.cfg, self.max_cfo_hz = sample_rate, cfg, max_cfo_hz
        self.workers, self.ip_plps = workers, tuple(ip_plps)
        self._parts: list[np.ndarray] = []
        self._samples = 0
        self._report: dict = {}

    @property
    def synced_once(self) -> bool:
        return "start" in self._report

    def push(self, iq: np.ndarray) -> dict:
        x = np.asarray(iq, np.complex64).reshape(-1)
        self._parts.append(x)
        self._samples += x.size
        return {}

    def flush(self) -> dict:
        iq = np.concatenate(self._parts) if self._parts else np.zeros(0, np.complex64)
        self._parts = []
        payload, self._report = receive(iq, self.sample_rate, self.cfg, self.max_cfo_hz,
                                        self.workers, self.ip_plps)
        return payload

    def report(self) -> dict:
        r = self._report
        plps = r.get("plps", {})
        fec = {k: sum(p.get(k, 0) for p in plps.values())
               for k in ("fec_blocks", "ldpc_failures", "outer_failures")}
        return ReceiverReport(
            self.standard, "tracking" if r else "searching", self._samples, int(bool(r)), 0,
            r.get("cfo_hz"), None, None, r.get("mer_db"), fec=fec,
            payload={"packets_lost": sum(p.get("packets_lost", 0) for p in plps.values())},
            details=r).to_dict()
