"""ATSC 3.0 reception of a capture: acquisition on the first bootstrap (``sync.acquire``:
frame start and carrier offset), the offset taken out, the configuration read from the
bootstrap and L1 (unless given), then the frames demodulated (``Atsc3Demodulator``; each
symbol's gain and phase from its pilots). Frames must follow each other without a sample
clock offset; the channel must be close to flat (no channel estimation across carriers yet)."""
from __future__ import annotations

import numpy as np

from sdrcast.phy.atsc3.config import Atsc3Config
from sdrcast.phy.atsc3.demodulator import Atsc3Demodulator
from sdrcast.phy.atsc3.sync import acquire
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
