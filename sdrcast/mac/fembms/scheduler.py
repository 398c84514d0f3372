"""The MCH scheduler of one MBSFN area (3GPP TS 36.321 5.12, 6.1.3.7; 36.331 MCCH): turns
queued IP packets per logical channel into one MAC PDU per MBSFN subframe.

Per MCH scheduling period (the MCH subframes counted from the period's first subframe, every
subframe but the cell-acquisition ones, as the 5G-MAG modem counts them): each PMCH's first
subframe carries the MSI (Stop MTCH = the PMCH's sf-AllocEnd for every MTCH) and, at MCCH
occasions, the MCCH, both with the signalling MCS; MTCH data starts at ``data_start`` and
fills each transport block (RLC UM segments across subframes); everything else is a
padding-only PDU. RLC SNs restart at 0 each period (the modem expects it). Queues are bounded
by ``queue_bytes`` per channel: beyond it the oldest packets are dropped and counted."""
from __future__ import annotations

from dataclasses import dataclass, field

from sdrcast.mac.fembms import mch
from sdrcast.mac.fembms.rlc import RlcUmTx, header


@dataclass
class Subframe:
    """One MBSFN subframe's PMCH: its MAC PDU, which PMCH and whether the signalling MCS."""

    pdu: bytes
    pmch: int
    signalling: bool


@dataclass
class MchScheduler:
    """``ends``: sf-AllocEnd of each PMCH; ``lcids``: the MTCHs of each PMCH; ``tbs``: the
    data transport block (bytes) of each PMCH; ``signalling_tbs``: at the signalling MCS."""

    ends: list[int]
    lcids: list[list[int]]
    tbs: list[int]
    signalling_tbs: int
    msi: bool = True
    data_start: int = 10
    queue_bytes: int = 4 << 20
    rlc: dict[int, RlcUmTx] = field(default_factory=dict)
    dropped_packets: int = 0
    dropped_bytes: int = 0
    sent_packets: int = 0
    padding_subframes: int = 0

    def __post_init__(self):
        self.rlc = {lcid: RlcUmTx() for group in self.lcids for lcid in group}

    def push(self, lcid: int, packet: bytes) -> None:
        """Queue one IP packet on ``lcid``; the oldest go when the queue is full."""
        q = self.rlc[lcid]
        q.push(packet)
        while q.pending > self.queue_bytes and len(q.queue) > 1:
            self.dropped_bytes += q.drop_oldest()
            self.dropped_packets += 1

    @property
    def pending(self) -> int:
        return sum(q.pending for q in self.rlc.values())

    def _pmch(self, index: int) -> int:
        return next(p for p, end in enumerate(self.ends) if index <= end)

    def subframe(self, index: int, mcch: bytes | None = None) -> Subframe:
        """The PDU of MCH subframe ``index`` of the period; ``mcch``: the MCCH message (with
        its RLC header) when this subframe is an MCCH occasion."""
        p = self._pmch(index)
        first = index == (self.ends[p - 1] + 1 if p else 0)
        if index == 0:
            for q in self.rlc.values():
                q.reset()
        elements: list[tuple[int, bytes]] = []
        if first and self.msi:
            elements.append((mch.LCID_MSI, mch.msi([(lcid, self.ends[p]) for lcid in self.lcids[p]])))
        if mcch is not None:
            elements.append((mch.LCID_MCCH, mcch))
        signalling = bool(elements)
        size = self.signalling_tbs if signalling else self.tbs[p]
        if index >= self.data_start and not signalling:
            later = (self.ends[p] - index) * (self.tbs[p] - 4)  # what this period still carries
            self._fill(elements, size, self.lcids[p], later)
        if not elements:
            self.padding_subframes += 1
        return Subframe(mch.pack(elements, size), p, signalling)

    def _fill(self, elements: list, size: int, lcids: list[int], later: int) -> None:
        """RLC PDUs of the PMCH's channels in turn until the block is full: an SDU that does
        not fit is cut so that its segment ends the block (last subheader, no length). SNs
        restart with the period, so no SDU may be left half sent across it: a new SDU starts
        only if this block and the ``later`` bytes of the period's remaining subframes hold it."""
        progress = True
        while progress:
            progress = False
            for lcid in lcids:
                q = self.rlc[lcid]
                rest = q.peek()
                used = sum(mch.subheader_size(len(p)) + len(p) for _, p in elements)
                free_last = size - used - 1
                starting = q.queue[0][1] == 0 if q.queue else False
                if rest is None or free_last < 2 or (starting and rest > free_last + later):
                    continue
                pdu = q.pull(min(rest, free_last))
                if not pdu[0] & 0x40:  # FI: the PDU ends its SDU
                    self.sent_packets += 1
                elements.append((lcid, pdu))
                progress = True


def mcch_sdu(message: bytes) -> bytes:
    """The MCCH message in one RLC UM PDU (FI 00, SN 0), as the 5G-MAG modem reads it."""
    return header(0, 0) + message
