"""ATSC 3.0 transmitter: MPEG-TS or IPv4 per PLP in, complex baseband at (16 + N) x 0.384 Msps
out.

Per PLP: A/330 ALP (TS mode with null deletion, or IPv4) -> baseband packets -> scrambler -> BCH or CRC ->
LDPC -> bit interleaver -> QPSK/NUC mapping -> (LDM: enhanced layer added to its core PLP) ->
hybrid or convolutional time interleaver.
Per frame: L1-Basic + L1-Detail (L1 FEC chain),
PLP cells (TDM) and dummy cells -> frequency interleaver -> pilots -> OFDM with guard
intervals, after the bootstrap resampled to the baseband rate.
"""
from __future__ import annotations

import numpy as np

from sdrcast.errors import ConfigError
from sdrcast.mac.atsc3.alp import IpEncapsulator, TsEncapsulator
from sdrcast.mac.atsc3.baseband import BasebandPacketizer, header
from sdrcast.phy.atsc3 import frame_builder, frequency_interleaver, ofdm, pilots
from sdrcast.phy.atsc3.bit_interleaver import cell_words
from sdrcast.phy.atsc3.bootstrap import BootstrapFields, preamble_structure
from sdrcast.phy.atsc3.bootstrap import native as native_bootstrap
from sdrcast.phy.atsc3.config import Atsc3Config, PlpConfig
from sdrcast.phy.atsc3.frame_geometry import preamble_row
from sdrcast.phy.atsc3.framing import frame_timing, l1_bits, time_offset
from sdrcast.phy.atsc3.l1_fec import encode as l1_encode
from sdrcast.phy.atsc3.scrambler import scramble
from sdrcast.phy.atsc3.tables import constellation_points
from sdrcast.phy.atsc3.tables import ofdm as ofdm_tables
from sdrcast.phy.atsc3.time_interleaver import CtiInterleaver, hybrid
from sdrcast.phy.contracts import Transmitter
from sdrcast.phy.fec import BchCode, CrcCode, LdpcCode


class PlpEncoder:
    """TS bytes or IPv4 datagrams (back to back) -> ALP -> baseband packets -> FEC -> mapped
    cells, one FEC block per packet."""

    def __init__(self, cfg: PlpConfig, workers: int = 2):
        self.cfg, self.workers = cfg, workers
        self.alp = TsEncapsulator() if cfg.input == "ts" else IpEncapsulator()
        self.bbp = BasebandPacketizer(cfg.k_payload)
        self.ldpc = LdpcCode.atsc3(cfg.ldpc_length, cfg.code_rate)
        self.outer = (BchCode.atsc3(cfg.ldpc_length, cfg.code_rate) if cfg.fec_type == "BCH+LDPC" else
                      CrcCode.atsc3(cfg.ldpc_length, cfg.code_rate) if cfg.fec_type == "CRC+LDPC" else None)
        self.points = constellation_points(cfg.modulation, cfg.code_rate)
        self.packets = np.zeros((0, cfg.k_payload // 8), np.uint8)
        self.padding_packets = 0
        self.cti = (CtiInterleaver(cfg.cti_depth, self.points, cfg.cells_per_fec_block)
                    if cfg.ti_mode == "CTI" else None)

    def push(self, data: np.ndarray) -> None:
        alp, starts = self.alp.push(data)
        self.packets = np.concatenate([self.packets, self.bbp.push(alp, starts)])

    def pad(self, blocks: int, end: bool = False) -> None:
        """Complete ``blocks`` baseband packets: the partial one padded, then all-padding packets.
        ``end``: end of input, a partial ALP packet (NUMTS group) is sent too."""
        if end:
            self.packets = np.concatenate([self.packets, self.bbp.push(*self.alp.flush())])
        self.packets = np.concatenate([self.packets, self.bbp.flush()])
        short = blocks - len(self.packets)
        if short > 0:
            pad = header(8191, self.bbp.payload)[None, :].repeat(short, axis=0)
            self.packets = np.concatenate([self.packets, pad])
            self.padding_packets += short

    def mapped(self, blocks: int) -> np.ndarray:
        """Mapped cells of the next ``blocks`` FEC blocks (before time interleaving)."""
        pk, self.packets = self.packets[:blocks], self.packets[blocks:]
        bits = np.unpackbits(scramble(pk), axis=1)
        if self.outer is not None:
            bits = self.outer.encode(bits)
        cw = self.ldpc.encode(bits, self.workers)
        return self.points[cell_words(cw, self.cfg.ldpc_length, self.cfg.code_rate,
                                      self.cfg.modulation).reshape(-1)]

    def interleave(self, cells: np.ndarray) -> np.ndarray:
        """This PLP's time interleaving of a frame's cells (for LDM: the combined layers)."""
        c = self.cfg
        if c.ti_mode == "HTI":
            return hybrid(cells, c.cells_per_fec_block, c.hti_ti_blocks,
                          c.hti_fec_blocks_max or c.fec_blocks, c.hti_cell_interleaver)
        return self.cti(cells) if self.cti is not None else cells


class Atsc3Transmitter(Transmitter):
    """``modulate(payload) -> iq`` for whole frames. ``payload``: TS bytes for a single PLP, or
    ``{plp_id: TS bytes}``. Input that does not fill the last frame is completed with
    baseband-packet padding (``padding_packets`` per PLP counts the packets added)."""

    def __init__(self, cfg: Atsc3Config | None = None, workers: int = 2):
        self.cfg = cfg = cfg or Atsc3Config()
        self.sample_rate = cfg.sample_rate
        self.plps = {p.plp_id: PlpEncoder(p, workers) for sub in cfg.subframes for p in sub.plps}
        self.layouts = [cfg.layout(i) for i in range(len(cfg.subframes))]
        self.nulls = [frame_builder.sbs_null_cells(s.fft_size, s.scattered_pilot_pattern,
                                                   s.reduced_carriers, s.scattered_pilot_boost)
                      for s in cfg.subframes]
        self._dummy = None  # dummy-sequence offset per subframe (needs the L1 size)
        self._l1 = None  # cached L1 cells when they do not change from frame to frame
        self._l1_offset = 0  # the L1B_time_offset they carry
        s = cfg.subframes[0]
        row = ofdm_tables()["preamble_pilots"]["rows"][preamble_row(s.fft_size, s.guard_interval,
                                                                    s.scattered_pilot_pattern)]
        ps = cfg.preamble_structure
        if ps is None:
            ps = preamble_structure(s.fft_size, s.guard_interval, row["preamble_Dx"],
                                    cfg.l1_basic_fec_mode)
        system_bandwidth = {2: 0, 5: 1, 8: 2}.get(cfg.bsr_coefficient, 3)
        self.bootstrap_fields = BootstrapFields(cfg.min_time_to_next, system_bandwidth,
                                                cfg.bsr_coefficient, ps)
        self.bootstrap = (native_bootstrap(self.bootstrap_fields, cfg.sample_rate)
                          if cfg.bootstrap_generation == "native" else
                          ofdm.bootstrap_at(cfg.sample_rate, self.bootstrap_fields))
        self.excess, self.postfix = frame_timing(cfg)  # time-aligned frames
        self.tr = (cfg.tr_clip_db, cfg.tr_max_tone, cfg.tr_iterations)
        self.frames = 0
        self.empty_carriers = 0  # see pilots.insert

    @property
    def padding_packets(self) -> dict[int, int]:
        return {i: e.padding_packets for i, e in self.plps.items()}

    def l1_cells(self) -> tuple[np.ndarray, np.ndarray]:
        """L1-Basic and L1-Detail cells of the next frame (CTI PLPs signal their state, and
        symbol-aligned frames their time offset; the first frame starts on a millisecond)."""
        cti = {i: (e.cti.start_row, e.cti.fec_block_start()) for i, e in self.plps.items()
               if e.cti is not None}
        offset = 0 if self.cfg.frame_length_ms is not None else \
            time_offset(self.cfg, self.frames * self.frame_samples_count)
        if self._l1 is None or cti or offset != self._l1_offset:
            basic, detail = l1_bits(self.cfg, cti, offset)
            self._l1 = (l1_encode(basic, "basic", self.cfg.l1_basic_fec_mode),
                        l1_encode(detail, "detail", self.cfg.l1_detail_fec_mode))
            self._l1_offset = offset
        return self._l1

    def frame_cells(self) -> list[np.ndarray]:
        """Framed cells of the next frame, per subframe (before frequency interleaving); PLPs
        short of input are completed with baseband padding."""
        l1 = self.l1_cells()
        if self._dummy is None:
            l1_cells = sum(c.size for c in l1)
            self._dummy = frame_builder.dummy_offsets([
                frame_builder.data_capacity(lay, l1_cells if i == 0 else 0, n)
                for i, (lay, n) in enumerate(zip(self.layouts, self.nulls, strict=True))])
        out = []
        for i, sub in enumerate(self.cfg.subframes):
            cores: list[list] = []  # [core encoder, cells], enhanced layers added in
            for p in sub.plps:
                e = self.plps[p.plp_id]
                if len(e.packets) < p.fec_blocks:  # input short: baseband padding
                    e.pad(p.fec_blocks)
                cells = e.mapped(p.fec_blocks)
                if p.layer == 1:  # LDM: enhanced layer added below the core, then normalised
                    alpha = 10 ** (-p.ldm_injection_level_db / 20)
                    core = cores[-1][1]
                    cores[-1][1] = ((core + alpha * cells) / np.sqrt(1 + alpha ** 2)).astype(np.complex64)
                else:
                    cores.append([e, cells])
            plp = np.concatenate([e.interleave(cells) for e, cells in cores])
            out.append(frame_builder.build(self.layouts[i], plp, self.nulls[i],
                                           *(l1 if i == 0 else (None, None)), self._dummy[i]))
        return out

    def frame_samples(self, framed: list[np.ndarray]) -> np.ndarray:
        """Framed cells per subframe -> the frame's samples (bootstrap first)."""
        parts = [self.bootstrap]
        for s, lay, cells in zip(self.cfg.subframes, self.layouts, framed, strict=True):
            cells = frequency_interleaver.interleave(cells, lay, s.frequency_interleaver)
            symbols, empty = pilots.insert(cells, lay)
            self.empty_carriers += empty
            parts.append(ofdm.modulate(symbols, lay, self.excess, self.tr))
        if self.postfix:  # time-aligned: the last symbol continues cyclically
            fft = self.cfg.subframes[-1].fft_size
            parts.append(parts[-1][-fft:][:self.postfix])
        return np.concatenate(parts)

    def _payload(self, payload) -> dict:
        return payload if isinstance(payload, dict) else {next(iter(self.plps)): payload}

    def feed(self, plp_id: int, data: bytes | np.ndarray) -> None:
        """Queue input for one PLP: TS bytes, or whole IPv4 datagrams back to back."""
        if plp_id not in self.plps:
            raise ConfigError(f"payload for plp_id {plp_id}: not in the configuration "
                              f"(PLPs {sorted(self.plps)})")
        data = np.frombuffer(bytes(data), np.uint8) if isinstance(data, bytes | bytearray) else data
        self.plps[plp_id].push(np.asarray(data, np.uint8).reshape(-1))

    def frames_ready(self, plp_ids=None) -> int:
        """Whole frames the queued input of ``plp_ids`` (default: all PLPs) fills."""
        ids = self.plps if plp_ids is None else plp_ids
        return min(len(self.plps[i].packets) // self.plps[i].cfg.fec_blocks for i in ids)

    def push(self, payload: bytes | np.ndarray | dict) -> np.ndarray:
        """Streaming: take TS bytes (for the first PLP, or ``{plp_id: data}``); return the frames
        whose FEC blocks are all ready. PLPs given no payload are filled with padding packets."""
        payload = self._payload(payload)
        for plp_id, data in payload.items():
            self.feed(plp_id, data)
        return self.next_frames(self.frames_ready(payload))

    def flush(self) -> np.ndarray:
        """End of input: the last frame, completed with padding packets."""
        need = max(-(-(len(e.packets) + bool(e.bbp.buf.size) + bool(e.alp.pending.size))
                     // e.cfg.fec_blocks) for e in self.plps.values())
        return self.next_frames(need, finish=True)

    def next_frames(self, n: int, finish: bool = False) -> np.ndarray:
        """The next ``n`` frames; PLPs whose input falls short are completed with baseband
        padding packets (``frame_cells``), after their partial ALP packet when ``finish``."""
        if finish:
            for e in self.plps.values():
                e.pad(n * e.cfg.fec_blocks, end=True)
        out = []
        for _ in range(n):
            out.append(self.frame_samples(self.frame_cells()))
            self.frames += 1
        return np.concatenate(out) if out else np.zeros(0, np.complex64)

    nominal_power = 1.0  # mean output power (OFDM symbols and bootstrap are normalised)

    def modulate(self, payload: bytes | np.ndarray | dict) -> np.ndarray:
        """TS bytes (one PLP) or ``{plp_id: TS bytes}`` -> whole frames of baseband samples."""
        if not isinstance(payload, dict) and len(self.plps) != 1:
            raise ConfigError(f"{len(self.plps)} PLPs: give the payload as {{plp_id: TS bytes}}")
        return super().modulate(payload)

    @property
    def frame_samples_count(self) -> int:
        return self.bootstrap.size + self.postfix + sum(
            len(lay.kinds) * (lay.fft + ofdm.guard_samples(s.guard_interval))
            + sum(k not in ("FP", "P") for k in lay.kinds) * self.excess
            for s, lay in zip(self.cfg.subframes, self.layouts, strict=True))

    def payload_bitrates(self) -> dict[int, float]:
        """TS bit rate each PLP carries (bit/s): its baseband packets' payload per frame."""
        t = self.frame_samples_count / self.sample_rate
        return {i: e.cfg.fec_blocks * (e.cfg.k_payload // 8 - 2) * 8 / t for i, e in self.plps.items()}
