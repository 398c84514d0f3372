"""ETSI TR 101 290 measurements on a transport stream: priority 1 (§5.2.1: TS_sync_loss,
Sync_byte_error, PAT_error_2, Continuity_count_error, PMT_error_2, PID_error) and the priority 2
checks that need no external clock (§5.2.2: Transport_error, CRC_error, PCR_repetition_error,
PCR_discontinuity_indicator_error, CAT_error), per-PID packet counts, and the PSI/SI found.

``TsAnalyzer.feed(packets, t0, t1)`` takes whole 188-byte packets that arrived between times
``t0`` and ``t1`` (seconds, spread evenly); ``advance(t)`` runs the timeouts when no packet
comes. Each error is an ``Event`` with the time it happened: a timeout (PAT, PMT, PID) fires
once, when its limit passes, and again only after the table or PID came back.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from sdrcast.errors import ParseError
from sdrcast.mac.ts import NULL_PID, SYNC, TS_PACKET, psi

PRIORITY = {"TS_sync_loss": 1, "Sync_byte_error": 1, "PAT_error": 1, "Continuity_count_error": 1,
            "PMT_error": 1, "PID_error": 1, "Transport_error": 2, "CRC_error": 2,
            "PCR_repetition_error": 2, "PCR_discontinuity_indicator_error": 2, "CAT_error": 2}
INDICATORS = tuple(PRIORITY)
SYNC_IN, SYNC_OUT = 5, 2  # §5.2.1 1.1: sync after 5 correct sync bytes, lost after 2 corrupted
SECTION_TIMEOUT_S = 0.5  # PAT and PMT at least every 0.5 s
PCR_REPETITION_S = 0.04  # 2.3a: PCRs at most 40 ms apart
PCR_JUMP_S = 0.1  # 2.3b: consecutive PCRs 0..100 ms apart unless discontinuity_indicator
PCR_WRAP = 2 ** 33 * 300
SI_PIDS = {psi.PID_PAT: "PAT", psi.PID_CAT: "CAT", psi.PID_NIT: "NIT", psi.PID_SDT: "SDT/BAT",
           psi.PID_EIT: "EIT", psi.PID_TOT: "TDT/TOT"}


@dataclass(frozen=True)
class Event:
    """One TR 101 290 error: when (s), which indicator, the PID it concerns (None for the
    stream), and what was seen."""

    time: float
    indicator: str
    pid: int | None
    detail: str

    @property
    def priority(self) -> int:
        return PRIORITY[self.indicator]


class TsAnalyzer:
    """See the module doc. ``counts``: errors per indicator since the start; ``events``: the
    newest ``history`` events; ``pid_packets``: packets per PID; ``programs``: PMTs by program;
    ``services``: SDT names; ``tables``: the PSI/SI tables seen (name -> count)."""

    def __init__(self, pid_timeout_s: float = 5.0, history: int = 1000):
        self.pid_timeout_s = pid_timeout_s
        self.counts = dict.fromkeys(INDICATORS, 0)
        self.events: deque[Event] = deque(maxlen=history)
        self.new_events: list[Event] = []
        self.pid_packets: dict[int, int] = {}
        self.packets = 0
        self.programs: dict[int, psi.Pmt] = {}
        self.services: dict[int, tuple[str, str]] = {}
        self.tables: dict[str, int] = {}
        self.parse_errors = 0
        self.synced, self._good, self._bad = False, 0, 0
        self.start: float | None = None
        self.now = 0.0
        self._cc: dict[int, tuple[int, bool]] = {}  # pid -> (last CC, last was a duplicate)
        self._asm: dict[int, psi.SectionAssembler] = {}
        self._pat: dict[int, int] = {}  # program -> PMT PID
        self._seen_pat: float | None = None
        self._seen_pmt: dict[int, float] = {}  # PMT PID -> last time (or when first named)
        self._seen_pid: dict[int, float] = {}  # every PID -> last time
        self._late: set[tuple[str, int]] = set()  # timeouts fired and not yet cleared
        self._pcr: dict[int, tuple[float, int]] = {}  # PCR PID -> (arrival, value)
        self._scrambled = False
        self._cat = False
        self._timed = True

    # -- input -------------------------------------------------------------------------------
    def feed(self, packets: np.ndarray, t0: float, t1: float, timed: bool = True) -> list[Event]:
        """Analyse whole packets that arrived over [t0, t1) -> the events they raised;
        ``timed`` False: the arrival times are not known well enough for PCR_repetition."""
        p = np.asarray(packets, np.uint8).reshape(-1, TS_PACKET)
        self.new_events, self._timed = [], timed
        if self.start is None:
            self.start = self.now = t0
            self._seen_pat = t0
        n = len(p)
        if not n:
            self._advance(t1)
            return self.new_events
        times = t0 + (t1 - t0) * np.arange(n) / n
        sync = p[:, 0] == SYNC
        self._sync(sync, times)
        tei = (p[:, 1] & 0x80) != 0
        for i in np.flatnonzero(tei):
            self._event(times[i], "Transport_error", self._pid(p[i]), "transport_error_indicator set")
        # one corrupted sync byte between good ones keeps its header checked; a packet in a run
        # of them (sync lost) or with transport_error_indicator set is not checked further
        good = np.concatenate([[True], sync, [True]])
        ok = (sync | (good[:-2] & good[2:])) & ~tei
        pid = ((p[:, 1].astype(np.int32) & 0x1F) << 8) | p[:, 2]
        self.packets += n
        for v, c in zip(*np.unique(pid[ok], return_counts=True), strict=True):
            self.pid_packets[int(v)] = self.pid_packets.get(int(v), 0) + int(c)
        afc = (p[:, 3] >> 4) & 0x3
        scr = (p[:, 3] >> 6) & 0x3
        has_af = (afc & 2) != 0
        af_len = np.where(has_af, p[:, 4], 0)
        disc = has_af & (af_len > 0) & ((p[:, 5] & 0x80) != 0)
        pcr = has_af & (af_len >= 7) & ((p[:, 5] & 0x10) != 0)
        checked = ok & (pid != NULL_PID)
        self._scrambled |= bool((checked & (scr != 0)).any())
        last_seen = {}
        for v in np.unique(pid[checked]):
            rows = np.flatnonzero(checked & (pid == v))
            last_seen[int(v)] = rows
            self._continuity(int(v), rows, p, afc, disc, times)
        si = checked & (np.isin(pid, list(SI_PIDS)) | pcr)
        pmts, nxt = None, 0
        while True:  # few: PSI/SI and PCR packets, in order; a new PAT names new PMT PIDs
            if pmts != self._pat:
                pmts = dict(self._pat)
                todo = np.flatnonzero(si | (checked & np.isin(pid, list(pmts.values()))))
            j = np.searchsorted(todo, nxt)
            if j >= todo.size:
                break
            i = todo[j]
            self._timeouts(times[i], pids=False)
            self._special(p[i], int(pid[i]), times[i], bool(pcr[i]), bool(disc[i]), int(scr[i]), int(afc[i]))
            nxt = i + 1
        for v, rows in last_seen.items():
            self._pid_gaps(v, times[rows])
        self._advance(t1)
        return self.new_events

    def advance(self, t: float) -> list[Event]:
        """Run the timeouts up to time ``t`` (also when no packet arrives) -> their events."""
        self.new_events = []
        self._advance(t)
        return self.new_events

    def _advance(self, t: float) -> None:
        if self.start is None:
            self.start, self._seen_pat = t, t
        self._timeouts(t)
        self.now = max(self.now, t)

    # -- checks ------------------------------------------------------------------------------
    def _event(self, t: float, indicator: str, pid: int | None, detail: str) -> None:
        e = Event(round(float(t), 6), indicator, pid, detail)
        self.counts[indicator] += 1
        self.events.append(e)
        self.new_events.append(e)

    @staticmethod
    def _pid(pkt) -> int:
        return ((int(pkt[1]) & 0x1F) << 8) | int(pkt[2])

    def _sync(self, sync: np.ndarray, times: np.ndarray) -> None:
        if self.synced and sync.all():
            self._bad = 0
            return
        for i, good in enumerate(sync):
            if good:
                self._good, self._bad = self._good + 1, 0
                if not self.synced and self._good >= SYNC_IN:
                    self.synced = True
            else:
                self._good, self._bad = 0, self._bad + 1
                if self.synced:
                    self._event(times[i], "Sync_byte_error", None, "sync byte is not 0x47")
                    if self._bad >= SYNC_OUT:
                        self.synced = False
                        self._event(times[i], "TS_sync_loss", None, f"{SYNC_OUT} corrupted sync bytes")

    def _continuity(self, pid: int, rows: np.ndarray, p, afc, disc, times) -> None:
        rows = rows[(afc[rows] & 1) != 0]  # only packets with payload count
        if not rows.size:
            return
        cc = (p[rows, 3] & 0x0F).astype(np.int32)
        last = self._cc.get(pid)
        prev = np.concatenate([[last[0] if last else cc[0] - 1], cc[:-1]])
        step = (cc - prev) % 16
        dup = last[1] if last else False
        bad = np.flatnonzero(step != 1)
        if not bad.size:  # the usual case: every step +1
            self._cc[pid] = (int(cc[-1]), False)
            return
        k = 0
        for j in range(len(cc)):
            if k < bad.size and bad[k] == j:
                k += 1
                i = rows[j]
                if disc[i]:
                    dup = False
                elif step[j] == 0 and not dup:
                    dup = True  # one duplicate is allowed
                else:
                    why = "a packet repeated twice" if step[j] == 0 else f"{step[j] - 1} packets missing"
                    self._event(times[i], "Continuity_count_error", pid, f"CC {prev[j]} -> {cc[j]}: {why}")
                    dup = False
            else:
                dup = False
        self._cc[pid] = (int(cc[-1]), dup)

    def _special(self, pkt, pid: int, t: float, has_pcr: bool, disc: bool, scr: int, afc: int) -> None:
        if has_pcr:
            self._pcr_check(pkt, pid, t, disc)
        is_psi = pid in SI_PIDS or pid in self._pat.values()
        if not is_psi or not afc & 1:
            return
        if scr and pid in (psi.PID_PAT, *self._pat.values()):
            name = "PAT_error" if pid == psi.PID_PAT else "PMT_error"
            self._event(t, name, pid, "transport_scrambling_control is not 00")
            return
        start = 4 + (1 + int(pkt[4]) if afc & 2 else 0)
        asm = self._asm.setdefault(pid, psi.SectionAssembler())
        try:
            sections = asm.feed(bytes(pkt[start:]), bool(pkt[1] & 0x40))
        except ParseError:
            self.parse_errors += 1
            asm.lost()
            return
        for raw in sections:
            self._section(raw, pid, t)

    def _section(self, raw: bytes, pid: int, t: float) -> None:
        try:
            s = psi.parse_section(raw)
        except ParseError:
            self.parse_errors += 1
            return
        if s.long and not s.crc_ok:
            self._event(t, "CRC_error", pid, f"table 0x{s.table_id:02X}: CRC_32 does not match")
            return
        if pid == psi.PID_PAT and s.table_id != psi.TABLE_PAT:
            self._event(t, "PAT_error", pid, f"table_id 0x{s.table_id:02X} on PID 0x0000")
            return
        if pid == psi.PID_CAT and s.table_id != psi.TABLE_CAT:
            self._event(t, "CAT_error", pid, f"table_id 0x{s.table_id:02X} on PID 0x0001")
            return
        try:
            if s.table_id == psi.TABLE_PAT:
                self._on_pat(psi.parse_pat(s), t)
            elif s.table_id == psi.TABLE_CAT:
                self._cat = True
            elif s.table_id == psi.TABLE_PMT and pid in self._pat.values():
                m = psi.parse_pmt(s)
                self.programs[m.program] = m
                self._seen_pmt[pid] = t
                self._late.discard(("PMT_error", pid))
                for _, es in m.streams:
                    self._seen_pid.setdefault(es, t)
            elif s.table_id == psi.TABLE_SDT:
                self.services.update(psi.parse_sdt(s))
        except ParseError:
            self.parse_errors += 1
            return
        name = {psi.TABLE_PAT: "PAT", psi.TABLE_CAT: "CAT", psi.TABLE_PMT: "PMT", psi.TABLE_SDT: "SDT"}
        key = name.get(s.table_id, f"table 0x{s.table_id:02X}")
        self.tables[key] = self.tables.get(key, 0) + 1

    def _on_pat(self, programs: dict[int, int], t: float) -> None:
        self._seen_pat = t
        self._late.discard(("PAT_error", 0))
        pmts = {p: pid for p, pid in programs.items() if p != 0}
        for pid in set(pmts.values()) - set(self._pat.values()):
            self._seen_pmt[pid] = t  # the 0.5 s start when the PAT names it
        for pid in set(self._pat.values()) - set(pmts.values()):
            self._seen_pmt.pop(pid, None)
        self._pat = pmts

    def _pcr_check(self, pkt, pid: int, t: float, disc: bool) -> None:
        b = [int(x) for x in pkt[6:12]]
        value = ((b[0] << 25 | b[1] << 17 | b[2] << 9 | b[3] << 1 | b[4] >> 7) * 300
                 + ((b[4] & 1) << 8 | b[5]))
        last = self._pcr.get(pid)
        self._pcr[pid] = (t, value)
        if last is None:
            return
        if t - last[0] > PCR_REPETITION_S and self._timed:
            self._event(t, "PCR_repetition_error", pid, f"PCRs {1e3 * (t - last[0]):.0f} ms apart")
        jump = ((value - last[1]) % PCR_WRAP) / 27e6
        if not disc and not 0 < jump <= PCR_JUMP_S:
            self._event(t, "PCR_discontinuity_indicator_error", pid,
                        f"PCR moved {1e3 * jump:.0f} ms without discontinuity_indicator")

    def _pid_gaps(self, pid: int, seen: np.ndarray) -> None:
        """PID_error for each gap longer than the PID timeout before or between this feed's
        packets of a PID the PMTs name (a gap already reported by ``_timeouts`` is not
        reported again)."""
        last = self._seen_pid.get(pid)
        if last is not None and self._named(pid):
            t = np.concatenate([[last], seen])
            for j in np.flatnonzero(np.diff(t) > self.pid_timeout_s):
                if j == 0 and ("PID_error", pid) in self._late:
                    continue
                self._event(t[j] + self.pid_timeout_s, "PID_error", pid,
                            f"PID 0x{pid:04X} named in the PMT absent for {t[j + 1] - t[j]:.2f} s")
        self._seen_pid[pid] = float(seen[-1])
        self._late.discard(("PID_error", pid))

    def _named(self, pid: int) -> bool:
        return any(pid == es for m in self.programs.values() for _, es in m.streams)

    def _timeouts(self, t: float, pids: bool = True) -> None:
        if self._seen_pat is not None and t - self._seen_pat > SECTION_TIMEOUT_S \
                and ("PAT_error", 0) not in self._late:
            self._late.add(("PAT_error", 0))
            self._event(self._seen_pat + SECTION_TIMEOUT_S, "PAT_error", 0, "no PAT for 0.5 s")
        for pid, last in self._seen_pmt.items():
            if t - last > SECTION_TIMEOUT_S and ("PMT_error", pid) not in self._late:
                self._late.add(("PMT_error", pid))
                self._event(last + SECTION_TIMEOUT_S, "PMT_error", pid,
                            f"no PMT on PID 0x{pid:04X} for 0.5 s")
        for m in self.programs.values() if pids else ():
            for _, es in m.streams:
                last = self._seen_pid.get(es)
                if last is not None and t - last > self.pid_timeout_s and ("PID_error", es) not in self._late:
                    self._late.add(("PID_error", es))
                    self._event(last + self.pid_timeout_s, "PID_error", es,
                                f"PID 0x{es:04X} named in the PMT absent for {self.pid_timeout_s:g} s")
        if self._scrambled and not self._cat and ("CAT_error", 1) not in self._late:
            self._late.add(("CAT_error", 1))
            self._event(t, "CAT_error", 1, "scrambled packets and no CAT")

    # -- report ------------------------------------------------------------------------------
    def summary(self) -> dict:
        return {"packets": self.packets, "synced": self.synced, "counts": dict(self.counts),
                "pid_packets": {f"0x{k:04X}": v for k, v in sorted(self.pid_packets.items())},
                "programs": {p: {"pcr_pid": m.pcr_pid, "streams": [
                    {"pid": pid, "type": psi.STREAM_TYPES.get(st, f"0x{st:02X}")} for st, pid in m.streams]}
                    for p, m in sorted(self.programs.items())},
                "services": {sid: {"provider": a, "name": b} for sid, (a, b) in self.services.items()},
                "tables": dict(self.tables), "parse_errors": self.parse_errors}
