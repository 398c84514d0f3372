"""A program stream to test and demonstrate with: one program (video and audio PIDs) with PAT
and PMT every 100 ms, an SDT every second, a PCR on the video PID every 30 ms (stamped at each
packet's place at the stream's bit rate), continuity counters and random payload — what a
TR 101 290 analyser passes clean (ISO/IEC 13818-1, ETSI TR 101 290 §5.2.1 intervals)."""
from __future__ import annotations

import numpy as np

from sdrcast.errors import ConfigError
from sdrcast.mac.ts import SYNC, TS_PACKET, psi

PSI_INTERVAL_S, SDT_INTERVAL_S, PCR_INTERVAL_S = 0.1, 1.0, 0.03
PCR_HZ = 27e6


class ProgramMux:
    """``packets(n)`` -> the next ``n`` packets (flat uint8) of a program at ``bitrate`` bit/s;
    PIDs: PMT ``pmt_pid``, video ``video_pid`` (H.264, carries the PCR), audio ``audio_pid``."""

    def __init__(self, bitrate: float, program: int = 1, tsid: int = 1, pmt_pid: int = 0x1000,
                 video_pid: int = 0x100, audio_pid: int = 0x101, name: str = "sdrcast test",
                 seed: int = 0):
        if not 1e5 <= bitrate <= 2e8:
            raise ConfigError(f"bitrate {bitrate:g}: allowed 1e5 to 2e8 bit/s")
        self.bitrate, self.video_pid, self.audio_pid, self.pmt_pid = bitrate, video_pid, audio_pid, pmt_pid
        self.sections = {0x0000: psi.pat(tsid, {program: pmt_pid}),
                         pmt_pid: psi.pmt(program, video_pid, [(0x1B, video_pid), (0x0F, audio_pid)]),
                         0x0011: psi.sdt(tsid, 1, {program: ("sdrcast", name)})}
        self.rng = np.random.default_rng(seed)
        self.sent = 0
        self.cc: dict[int, int] = {}

    def _time(self, index):
        return np.asarray(index) * (TS_PACKET * 8 / self.bitrate)

    def _header(self, pkt: np.ndarray, pid: int, start: bool = False, afc: int = 1) -> None:
        cc = self.cc.get(pid, 0)
        pkt[0], pkt[1], pkt[2] = SYNC, (0x40 if start else 0) | (pid >> 8), pid & 0xFF
        pkt[3] = (afc << 4) | cc
        self.cc[pid] = (cc + 1) & 0x0F

    def packets(self, n: int) -> np.ndarray:
        idx = self.sent + np.arange(n)
        t = self._time(idx)
        prev = self._time(idx - 1)
        out = self.rng.integers(0, 256, (n, TS_PACKET), dtype=np.uint8)
        def due(interval: float) -> np.ndarray:  # the first packet of each interval
            return (idx == 0) | (np.floor(t / interval) != np.floor(prev / interval))

        psi_at, sdt_at = np.flatnonzero(due(PSI_INTERVAL_S)), set(np.flatnonzero(due(SDT_INTERVAL_S)))
        pcr_due = due(PCR_INTERVAL_S)
        special: dict[int, int] = {}
        for i in psi_at:  # PAT, PMT (and SDT) in the packets from i on
            pids = [0x0000, self.pmt_pid] + ([0x0011] if i in sdt_at else [])
            for k, pid in enumerate(pids):
                if i + k < n:
                    special[int(i + k)] = pid
        pcr_pending = False
        for i in range(n):
            pcr_pending |= bool(pcr_due[i])
            pid = special.get(i)
            pkt = out[i]
            if pid is not None:
                sec = self.sections[pid]
                self._header(pkt, pid, start=True)
                pkt[4] = 0
                pkt[5:5 + len(sec)] = np.frombuffer(sec, np.uint8)
                pkt[5 + len(sec):] = 0xFF
            elif i % 8 == 7:
                self._header(pkt, self.audio_pid, start=i % 64 == 7)
            elif pcr_pending:
                self._header(pkt, self.video_pid, afc=3)
                base = int(t[i] * PCR_HZ)
                b, ext = base // 300, base % 300
                pkt[4:12] = [7, 0x10, (b >> 25) & 0xFF, (b >> 17) & 0xFF, (b >> 9) & 0xFF,
                             (b >> 1) & 0xFF, ((b & 1) << 7) | 0x7E | (ext >> 8), ext & 0xFF]
                pcr_pending = False
            else:
                self._header(pkt, self.video_pid, start=i % 64 == 0)
        self.sent += n
        return out.reshape(-1)

    def seconds(self, s: float) -> np.ndarray:
        """The next ``s`` seconds of the stream."""
        return self.packets(int(round(s * self.bitrate / (TS_PACKET * 8))))
