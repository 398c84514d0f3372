"""The FeMBMS transmitter: IP packets per MTCH logical channel in, a continuous MBMS-dedicated
carrier out (the cell-acquisition subframe every 40 ms, every other subframe an MBSFN subframe
with one PMCH transport block: MSI, MCCH, MTCH data or padding; never an empty subframe).

Contract (``phy.contracts``): ``push(packets)`` queues and sends what the backlog fills,
``flush()`` sends the rest and completes the scheduling period (so the output loops into a
valid carrier), ``modulate(packets)`` does both; ``subframes(n)`` sends ``n`` subframes
whatever is queued (live pacing). Grids carry unit-power resource elements in every subframe
type, so the power is the same in CAS and MBSFN subframes (``nominal_power``)."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from sdrcast.errors import ConfigError
from sdrcast.mac.fembms import rrc
from sdrcast.mac.fembms.scheduler import MchScheduler, mcch_sdu
from sdrcast.phy.contracts import Transmitter
from sdrcast.phy.fembms.cas import CellAcquisition
from sdrcast.phy.fembms.config import FembmsConfig, frames
from sdrcast.phy.fembms.numerology import numerology
from sdrcast.phy.fembms.pmch import Pmch, tbs


class FembmsTransmitter(Transmitter):
    """See the module doc. ``packets``: an iterable of ``(lcid, ip_packet)`` or a dict
    ``{lcid: [packets]}``."""

    def __init__(self, cfg: FembmsConfig | None = None):
        self.cfg = cfg = cfg or FembmsConfig()
        self.sample_rate = cfg.rate
        self.cas = CellAcquisition(cfg.pci, cfg.n_rb, cfg.cas_cp == "normal", fill=cfg.cas_fill)
        self.sib1 = rrc.sib1_mbms(
            mcc=cfg.mcc, mnc=cfg.mnc, tac=cfg.tac, cell_identity=cfg.cell_identity, band=cfg.band,
            area_id=cfg.area_id, non_mbsfn_region="s2", mcch_repetition=cfg.mcch_repetition,
            mcch_offset=cfg.mcch_offset, mcch_modification=cfg.mcch_modification,
            mcch_subframe=cfg.mcch_subframe, signalling_mcs=cfg.signalling_mcs, numerology=cfg.numerology)
        pmchs = tuple(rrc.PmchInfo(end, p.data_mcs, cfg.scheduling_period,
                                   tuple(rrc.Session(bytes.fromhex(s.service_id), s.session_id, s.lcid)
                                         for s in p.sessions), p.mcs_table)
                      for p, end in zip(cfg.pmchs, cfg.alloc_ends, strict=True))
        self.mcch = rrc.mbsfn_area_configuration(
            mcc=cfg.mcc, mnc=cfg.mnc, common_sf_alloc=63, common_sf_alloc_period=cfg.scheduling_period,
            pmchs=pmchs, common_sf_alloc_v1430=3 if cfg.mcch_v1430 else None)
        self.scheduler = MchScheduler(
            ends=cfg.alloc_ends, lcids=[[s.lcid for s in p.sessions] for p in cfg.pmchs],
            tbs=[tbs(p.data_mcs, cfg.n_rb, p.mcs_table) // 8 for p in cfg.pmchs],
            signalling_tbs=tbs(cfg.signalling_mcs, cfg.n_rb) // 8, msi=cfg.msi, data_start=cfg.data_start)
        self.lcids = set(self.scheduler.rlc)
        self._padding: dict[tuple[int, int, str], np.ndarray] = {}
        self._resampler = None
        if cfg.rate != cfg.standard_rate:
            from sdrcast.phy.resample import Resampler

            self._resampler = Resampler.from_rates(cfg.standard_rate, cfg.rate)
        self.tti = 0  # subframes sent since SFN 0, subframe 0
        self.mch_index = 0  # MCH subframe within the scheduling period
        self.subframes_sent = {"cas": 0, "mcch": 0, "msi": 0, "data": 0, "padding": 0}

    # ------------------------------------------------------------------------------------
    @property
    def nominal_power(self) -> float:
        """Mean power of the output: 12 N_RB unit-power subcarriers in an N-point FFT."""
        return 12 * self.cfg.n_rb / numerology("15").fft_size(self.cfg.standard_rate)

    @property
    def subframe_samples(self) -> int:
        return round(self.cfg.standard_rate / 1000)

    def _queue(self, packets) -> None:
        items = ((lcid, p) for lcid, ps in packets.items() for p in ps) if isinstance(packets, dict) \
            else packets
        for lcid, packet in items:
            if lcid not in self.lcids:
                raise ConfigError(f"packet for lcid={lcid}: no session uses it; "
                                  f"configured {sorted(self.lcids)}")
            self.scheduler.push(lcid, bytes(packet))

    def push(self, packets: Iterable | dict) -> np.ndarray:
        """Queue packets; send subframes while more than a scheduling period's worth waits."""
        self._queue(packets)
        out = []
        backlog = sum(self.scheduler.tbs) * self.cfg.mch_subframes // max(len(self.cfg.pmchs), 1)
        while self.scheduler.pending > backlog:
            out.append(self.subframes(self.cfg.mch_subframes // 4))
        return np.concatenate(out) if out else np.zeros(0, np.complex64)

    def flush(self) -> np.ndarray:
        """Send everything queued, then complete the scheduling period."""
        out = []
        while self.scheduler.pending:
            out.append(self.subframes(10))
        period = 10 * self.cfg.period_frames
        if self.tti % period:
            out.append(self.subframes(period - self.tti % period))
        return np.concatenate(out) if out else np.zeros(0, np.complex64)

    # ------------------------------------------------------------------------------------
    def subframes(self, n: int) -> np.ndarray:
        """The next ``n`` subframes (1 ms each) of the carrier, scheduled here in order, coded
        and modulated on the kernel pool's threads."""
        from sdrcast.phy.parallel import parallel_map

        jobs = [self._schedule() for _ in range(n)]
        x = np.concatenate(parallel_map(lambda job: self._modulate(job[0], job[1]()), jobs, 2))
        return self._resampler(x) if self._resampler is not None else x

    def _modulate(self, kind: str, grid: np.ndarray) -> np.ndarray:
        name = self.cfg.numerology if kind == "mbsfn" else "15" if self.cfg.cas_cp == "normal" else "15e"
        return numerology(name).modulate(grid, self.cfg.standard_rate)

    def _schedule(self):
        """The next subframe: (kind, a function making its grid)."""
        cfg = self.cfg
        sfn, sf = (self.tti // 10) % 1024, self.tti % 10
        period = 10 * cfg.period_frames
        if self.tti % period == 0:
            self.mch_index = 0
        self.tti += 1
        if sf == 0 and sfn % 4 == 0:
            self.subframes_sent["cas"] += 1
            return "cas", lambda: self.cas.grid(sfn, rrc.mib_mbms(cfg.n_rb, sfn), self.sib1)
        occasion = sfn % frames(cfg.mcch_repetition) == cfg.mcch_offset and sf == cfg.mcch_subframe
        out = self.scheduler.subframe(self.mch_index, mcch_sdu(self.mcch) if occasion else None)
        self.mch_index += 1
        kind = "mcch" if occasion else "msi" if out.signalling else \
            "padding" if out.pdu[0] == 0x1F else "data"
        self.subframes_sent[kind] += 1
        p = cfg.pmchs[out.pmch]
        mcs, table = (cfg.signalling_mcs, "64QAM") if out.signalling else (p.data_mcs, p.mcs_table)
        return "mbsfn", lambda: self.pmch_grid(sf, mcs, table, out.pdu)

    def pmch_grid(self, sf: int, mcs: int, table: str, tb: bytes) -> np.ndarray:
        """The grid of an MBSFN subframe (number ``sf``) carrying transport block ``tb``
        (padding-only blocks repeat: their grids are kept)."""
        key = (sf, mcs, table)
        padding = tb[0] == 0x1F and not any(tb[1:])
        if padding and key in self._padding:
            return self._padding[key]
        g = Pmch.cached(self.cfg.numerology, self.cfg.n_rb, self.cfg.area_id, sf, mcs, table).grid(tb)
        if padding:
            self._padding[key] = g
        return g

    def pmch_samples(self, sf: int, mcs: int, table: str, tb: bytes) -> np.ndarray:
        """One MBSFN subframe (number ``sf``) carrying transport block ``tb``."""
        return self._modulate("mbsfn", self.pmch_grid(sf, mcs, table, tb))

    def report(self) -> dict:
        s = self.scheduler
        return {"subframes": dict(self.subframes_sent), "packets_sent": s.sent_packets,
                "packets_dropped": s.dropped_packets, "bytes_dropped": s.dropped_bytes,
                "bytes_queued": s.pending}
