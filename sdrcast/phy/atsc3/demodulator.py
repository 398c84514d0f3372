"""ATSC 3.0 receiver back end for a frame-synchronous signal: the inverse of every transmitter
stage after synchronisation (OFDM, pilots, frequency interleaver, framing, L1, time
interleaver, mapping, bit interleaver, LDPC, outer code, scrambler, baseband packets, ALP).

``Atsc3Demodulator(cfg).demodulate(iq)`` takes whole frames starting at a bootstrap, with no
carrier or clock error (``receiver.Atsc3Receiver`` finds and tracks the frames, and reads the
configuration with ``read_configuration``); ``front``/``back`` split a frame so that two
frames overlap. Each symbol's channel and noise come from its pilots. L1-Basic and L1-Detail
are decoded (or, while they do not change, confirmed by re-encoding) and compared with the
configuration. A CTI PLP joins at any frame from L1; LDM is decoded by successive
cancellation. PLP payload types are not signalled in L1: ``with_inputs`` says which PLPs
carry IPv4 (the others TS; IPv4 packets in them are counted, ``ipv4_packets``).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from sdrcast.errors import ConfigError, ParseError
from sdrcast.mac.atsc3.alp import Decapsulator
from sdrcast.mac.atsc3.baseband import BasebandDepacketizer
from sdrcast.mac.ts import TS_PACKET, lost_packets
from sdrcast.phy.atsc3 import frequency_interleaver, ofdm, pilots
from sdrcast.phy.atsc3.bit_interleaver import cell_words, permutation
from sdrcast.phy.atsc3.config import Atsc3Config, PlpConfig
from sdrcast.phy.atsc3.frame_builder import data_positions, detail_cells
from sdrcast.phy.atsc3.frame_geometry import SymbolLayout
from sdrcast.phy.atsc3.framing import TI_MODE_CODE, l1_bits, time_offset
from sdrcast.phy.atsc3.l1 import L1B_BITS, l1_basic, parse_l1_basic, parse_l1_detail
from sdrcast.phy.atsc3.l1_fec import decode as l1_decode
from sdrcast.phy.atsc3.l1_fec import encode as l1_encode
from sdrcast.phy.atsc3.scrambler import scramble
from sdrcast.phy.atsc3.tables import ofdm as tables_ofdm
from sdrcast.phy.atsc3.time_interleaver import hybrid
from sdrcast.phy.atsc3.transmitter import Atsc3Transmitter
from sdrcast.phy.mapping import Constellation
from sdrcast.phy.ofdm.estimation import delay_profile, equalise

PRE_FEC_BLOCKS = 2  # LDPC blocks a decode call counts channel bit errors on (a sample: cheap)
DD_CELLS = 4096  # cells a frame's decision-directed noise measurement takes per PLP


def subframe_samples(lay: SymbolLayout, excess: int = 0) -> int:
    """Samples of a subframe (``excess``: time-aligned frames' extra guard samples)."""
    return len(lay.kinds) * (lay.fft + ofdm.guard_samples(lay.gi)) + \
        (len(lay.kinds) - lay.n_preamble) * excess


def subframe_grid(iq: np.ndarray, lay: SymbolLayout, excess: int = 0,
                  backoff: int = 0) -> tuple[np.ndarray, np.ndarray, list[slice]]:
    """A subframe's samples -> (its carriers as a grid, the pilots sent on it, each symbol's
    carriers in its row)."""
    symbols = ofdm.demodulate(iq, lay, excess, backoff)
    width = max(s.size for s in symbols)  # the first preamble symbol has fewer carriers
    at = [(lay.fft - s.size) // 2 - (lay.fft - width) // 2 for s in symbols]
    grid = np.zeros((len(symbols), width), np.complex64)
    amp = np.zeros_like(grid)
    for j, (x, a) in enumerate(zip(symbols, at, strict=True)):
        grid[j, a:a + x.size] = x
        amp[j, a:a + x.size] = pilots.symbol_map(lay, j)[0]
    return grid, amp, [slice(a, a + x.size) for x, a in zip(symbols, at, strict=True)]


def subframe_cells(iq: np.ndarray, lay: SymbolLayout, fi: bool, excess: int = 0,
                   backoff: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """A subframe's samples -> (its framed cells, equalised and frequency-deinterleaved
    (``fi``: data symbols interleaved); their noise variances; the mean noise variance at unit
    channel gain)."""
    grid, amp, rows = subframe_grid(iq, lay, excess, backoff)
    sp = tables_ofdm()["scattered_pilot_patterns"][lay.pattern]
    g = ofdm.guard_samples(lay.gi)
    eq, nv_cell, nv = equalise(grid, amp, max_gap=sp["Dy"], spacing=sp["Dx"],
                               delays=(-g / 16, min(g * 1.1, lay.fft / sp["Dx"] - g / 16), lay.fft))
    cells = pilots.extract([e[r] for e, r in zip(eq, rows, strict=True)], lay)[:lay.total_cells]
    noise = pilots.extract([v[r] for v, r in zip(nv_cell, rows, strict=True)], lay)[:lay.total_cells]
    return (frequency_interleaver.deinterleave(cells, lay, fi),
            frequency_interleaver.deinterleave(noise, lay, fi), nv)


class PlpDecoder:
    """One PLP's cells -> LLRs -> FEC blocks -> baseband packets -> TS bytes or IPv4 datagrams.
    LLRs wait across frames until whole FEC blocks are there (CTI moves block boundaries)."""

    def __init__(self, cfg: PlpConfig, workers: int, iterations: int):
        from sdrcast.phy.atsc3.transmitter import PlpEncoder

        self.enc = PlpEncoder(cfg, workers)  # the transmitter's codes and constellation
        self.cfg, self.workers, self.iterations = cfg, workers, iterations
        self.points = Constellation(self.enc.points)
        self.bit_order = permutation(cfg.ldpc_length, cfg.code_rate, cfg.modulation)
        self.hti = self.cti = None
        if cfg.ti_mode == "HTI":
            self.hti = hybrid(np.arange(cfg.cells), cfg.cells_per_fec_block, cfg.hti_ti_blocks,
                              cfg.hti_fec_blocks_max or cfg.fec_blocks, cfg.hti_cell_interleaver)
        self.llr = np.zeros(0, np.float32)
        self.mer_db: float | None = None  # decision-directed, on the last frame's cells
        self.depacketizer = BasebandDepacketizer()
        self.alp = Decapsulator()
        self.counters = {"fec_blocks": 0, "ldpc_failures": 0, "outer_failures": 0,
                         "ldpc_iterations": 0, "ldpc_retried": 0, "restarts": 0,
                         "ts_packets_marked": 0, "pre_ldpc_bits": 0, "pre_ldpc_bit_errors": 0}
        self.last_cells = np.zeros(0, np.complex64)  # a sample of the last frame's, equalised

    @property
    def joined(self) -> bool:
        """Cells can be taken: no CTI, or its deinterleaver set from a frame's L1."""
        return self.cfg.ti_mode != "CTI" or self.cti is not None

    def cti_follows(self, start_row: int, fec_block_start: int) -> bool:
        """A frame's L1D_plp_CTI_start_row and _fec_block_start (A/322 9.3.9.1): the
        deinterleaver joins the stream there if it has not (its output starts after the
        delay lines fill, at the next FEC block); otherwise they are checked against the cells
        seen since (False: they disagree)."""
        cfg, rows = self.cfg, self.cfg.cti_depth
        if self.cti is None:
            k = (start_row + fec_block_start % rows) % rows
            to_block = fec_block_start - rows * k  # cells to the next FEC block's first
            if not 0 <= to_block < cfg.cells_per_fec_block or start_row >= rows:
                return False
            self.cti = self.enc.cti.deinterleaver()
            self.cti_nv = self.enc.cti.deinterleaver(np.float32)  # the same delays for the noise
            for d in (self.cti, self.cti_nv):
                d.join(start_row, to_block)
            self._cti_joined = (start_row, to_block)
            return True
        n = self.cti.inverse.count  # cells since joining
        row, to_block = (self._cti_joined[0] + n) % rows, (self._cti_joined[1] - n) % cfg.cells_per_fec_block
        return (start_row, fec_block_start) == (row, to_block + rows * ((row + to_block) % rows))

    def restart(self, frames_lost: int = 0) -> None:
        """``frames_lost`` frames were lost: forget the LLRs held and the cut ALP packet,
        rejoin the CTI; the stream bytes they held count as lost (``bytes_lost``, and TS
        stand-ins for them at the restart)."""
        c = self.cfg
        blocks = frames_lost * c.cells / c.cells_per_fec_block + self.llr.size / c.ldpc_length
        self.depacketizer.lose(round(blocks * (c.k_payload // 8 - 2)) + self.alp.pending.size)
        self.counters["restarts"] += 1
        self.llr = np.zeros(0, np.float32)
        self.cti = None
        self.alp.reset()

    def deinterleave(self, cells: np.ndarray, noise_var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A frame's cells as received, and their noise variances -> in FEC-block order (time
        deinterleaving)."""
        if self.hti is not None:
            out, nv = np.empty_like(cells), np.empty_like(noise_var)
            out[self.hti], nv[self.hti] = cells, noise_var
            return out, nv
        if self.cti is not None:
            return self.cti(cells), self.cti_nv(noise_var)
        return cells, noise_var

    def decode(self, cells: np.ndarray, noise_var, retry: bool = True) -> tuple[np.ndarray, list, np.ndarray]:
        """Deinterleaved cells -> (TS bytes, IPv4 datagrams, LDPC information bits of the FEC
        blocks completed); ``retry``: blocks int8 LDPC fails are decoded again in float32."""
        n = self.cfg.ldpc_length
        noise_var = noise_var * self._noise_scale(cells, noise_var)
        self.llr = np.concatenate([self.llr, self.points.demap(cells, noise_var)])
        blocks = self.llr.size // n
        llr, self.llr = self.llr[:blocks * n].reshape(blocks, n), self.llr[blocks * n:]
        info, rep = self.ldpc.decode(llr, self.iterations, workers=self.workers, precision="int8",
                                     order=self.bit_order, retry=retry)
        self.counters["ldpc_retried"] += rep.retried
        good = rep.parity_ok.copy()
        if self.cfg.fec_type == "BCH+LDPC":
            msg, corrected = self.enc.outer.decode(info, self.workers)
            outer_ok = corrected >= 0
        elif self.cfg.fec_type == "CRC+LDPC":
            msg, outer_ok = self.enc.outer.decode(info)
        else:
            msg, outer_ok = info, np.ones(len(info), bool)
        self.counters["outer_failures"] += int(np.count_nonzero(~outer_ok))
        good &= outer_ok
        self.counters["fec_blocks"] += len(info)
        self.counters["ldpc_failures"] += int(np.count_nonzero(~rep.parity_ok))
        self.counters["ldpc_iterations"] += int(rep.iterations.sum())
        self._channel_errors(llr, info, rep.parity_ok)
        packets = scramble(np.packbits(msg[:, :self.cfg.k_payload], axis=1))
        ts, ip = [], []
        for piece, restarted, lost in self.depacketizer.push(packets, good):
            if restarted:  # a packet was lost: drop the ALP packet it cut
                lost += self.alp.pending.size
                self.alp.reset()
                if lost and self.cfg.input == "ts":  # keep the packet count, marked
                    ts.append(lost_packets(round(lost / TS_PACKET)))
                    self.counters["ts_packets_marked"] += round(lost / TS_PACKET)
            t, d = self.alp.push(piece)
            ts.append(t)
            ip += d
        return (np.concatenate(ts) if ts else np.zeros(0, np.uint8)), ip, info

    def _channel_errors(self, llr: np.ndarray, info: np.ndarray, ok: np.ndarray) -> None:
        """Bit errors before LDPC, on the information bits of up to ``PRE_FEC_BLOCKS`` blocks
        LDPC corrected (their decisions against the channel's; erasures not counted)."""
        pick = np.flatnonzero(ok)[:PRE_FEC_BLOCKS]
        if not pick.size:
            return
        cw = llr[pick]
        if self.bit_order is not None:  # llr[:, j] is codeword bit bit_order[j]
            cw = np.empty_like(cw)
            cw[:, self.bit_order] = llr[pick]
        m = self.ldpc.mother_llr(cw)[self.ldpc.info_cols].T
        seen = m != 0
        self.counters["pre_ldpc_bit_errors"] += int(((m < 0) != info[pick].astype(bool))[seen].sum())
        self.counters["pre_ldpc_bits"] += int(seen.sum())

    def _noise_scale(self, cells: np.ndarray, noise_var: np.ndarray) -> float:
        """How much larger the cells' error is than the pilots say (>= 1): the pilots' noise
        misses what the channel estimate itself gets wrong (Doppler between the pilots, the
        carrier interference it causes), and LLRs that trust it fail at high speed. Measured
        on up to ``DD_CELLS`` cells against their nearest points (decision-directed: a median,
        so erased and deeply faded cells do not count); also the PLP's MER (``mer_db``)."""
        if cells.size == 0:
            return 1.0
        pick = np.linspace(0, cells.size - 1, min(cells.size, DD_CELLS)).astype(np.int64)
        y, v = cells[pick], noise_var[pick]
        self.last_cells = y
        err = np.abs(y - self.points.points[self.points.decide(y)]) ** 2
        ok = np.isfinite(v) & (v > 0)
        if not ok.any():
            return 1.0
        self.mer_db = float(10 * np.log10(1 / max(float(np.mean(err[ok & (v < 1)])) if (ok & (v < 1)).any()
                                                  else 1.0, 1e-12)))
        # an error |n|^2 / nv is exponential with mean 1 when nv is right: median ln 2
        return max(1.0, float(np.median(err[ok] / v[ok])) / np.log(2))

    @property
    def ldpc(self):
        return self.enc.ldpc

    def remodulate(self, info: np.ndarray) -> np.ndarray:
        """LDPC information bits -> the cells the transmitter sent for them (LDM cancellation)."""
        c = self.cfg
        cw = self.ldpc.encode(info, self.workers)
        return self.enc.points[cell_words(cw, c.ldpc_length, c.code_rate, c.modulation).reshape(-1)]


DYNAMIC_FIELDS = ("L1B_time_offset", "L1B_crc", "L1B_reserved", "L1D_plp_CTI_start_row",
                  "L1D_plp_CTI_fec_block_start")  # L1 fields that move from frame to frame


def l1_signature(basic: dict, detail: dict) -> tuple:
    """What L1 says of the configuration: every field but ``DYNAMIC_FIELDS`` (a change in it
    is a new configuration)."""
    items = {**basic, **detail}
    return tuple(sorted((k, repr(v)) for k, v in items.items() if k not in DYNAMIC_FIELDS))


def _min_distance2(cells: np.ndarray) -> float:
    """Smallest squared distance between the constellation points among ``cells``."""
    pts = np.unique(np.round(cells, 5))
    d = np.abs(pts[:, None] - pts[None, :]) ** 2
    return float(d[d > 1e-9].min()) if pts.size > 1 else 0.0


def _within_noise(cells: np.ndarray, noise_var: np.ndarray, sent: np.ndarray, dmin2: float) -> bool:
    """``cells`` are ``sent`` plus noise of ``noise_var``: the mean normalised error is near 1
    (a different L1 codeword moves about half its cells by at least a point spacing, adding
    several more), judged only when the points stand 8 noise variances apart."""
    v = np.maximum(noise_var, 1e-12)
    if dmin2 < 8 * float(np.median(v)):
        return False
    return float(np.mean(np.abs(cells - sent) ** 2 / v)) < 2.0


class Atsc3Demodulator:
    """Frames of a frame-synchronous signal -> per-PLP payload and a report. The frames need
    not be the transmitter's first: CTI PLPs join at the first frame whose L1 decodes (its
    start row and FEC block start), time offsets and CTI fields are then predicted frame by
    frame and checked (``l1_inconsistent``)."""

    def __init__(self, cfg: Atsc3Config, workers: int = 2, iterations: int = 25,
                 backoff: int | None = None, signature_from_signal: bool = False,
                 only=None):
        self.cfg = cfg
        # FFT windows start a little into the guard interval (see ofdm.demodulate)
        self.backoff = min(ofdm.guard_samples(s.guard_interval) for s in cfg.subframes) // 8 \
            if backoff is None else backoff
        self.ref = Atsc3Transmitter(cfg)  # layouts, L1 and lengths, exactly as transmitted
        self.l1 = self.ref.l1_cells()
        # the PLPs decoded: ``only`` (all when None), and the core layer under an enhanced one
        wanted = None if only is None else set(only)
        for s in cfg.subframes:
            for k, p in enumerate(s.plps):
                if wanted is not None and p.layer and p.plp_id in wanted:
                    wanted.add(next(c.plp_id for c in s.plps[k::-1] if not c.layer))
        self.plps = {p.plp_id: PlpDecoder(p, workers, iterations) for s in cfg.subframes
                     for p in s.plps if wanted is None or p.plp_id in wanted}
        basic, detail = l1_bits(cfg)
        self.detail_bits = detail.size
        b = parse_l1_basic(basic)
        # what L1 must say: as the transmitter would put it, or (a configuration read from the
        # signal, whose L1 may carry fields the configuration does not keep) its first frame's
        self.signature = None if signature_from_signal else l1_signature(b, parse_l1_detail(detail, b))
        self._next_offset: int | None = None  # L1B_time_offset the next frame must carry
        # L1 predictable from the frame before: no CTI state (the time offset is predicted)
        self._l1_static = not any(p.ti_mode == "CTI" for s in cfg.subframes for p in s.plps)
        # the last L1 decoded: its fields, L1-Detail cells, their point spacing, and the
        # whole L1's cells for a time offset (cached)
        self._l1_last: list | None = None
        self.counters = {"frames": 0, "l1_errors": 0, "l1_changed": 0, "l1_inconsistent": 0,
                         "l1_reused": 0, "samples_left": 0}
        self._noise = [0.0, 0]  # sum of per-frame noise variances at unit gain, frames
        self.last_mer_db: float | None = None
        self._last_frame: np.ndarray | None = None  # for the echo profile, made when asked

    def _subframe_cells(self, iq: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray], float]:
        """One frame's samples -> framed cells per subframe, their noise variances, and the
        frame's noise variance at unit channel gain (for MER)."""
        a = self.ref.bootstrap.size
        cells, noise, unit = [], [], []
        for s, lay in zip(self.cfg.subframes, self.ref.layouts, strict=True):
            n = subframe_samples(lay, self.ref.excess)
            c, nv, u = subframe_cells(iq[a:a + n], lay, s.frequency_interleaver, self.ref.excess,
                                      self.backoff)
            a += n
            cells.append(c)
            noise.append(nv)
            unit.append(u)
        return cells, noise, float(np.mean(unit))

    def channel_profile(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The echo profile (``estimation.delay_profile``) from the scattered pilots of the
        last frame's first subframe."""
        if self._last_frame is None:
            return None
        lay, a = self.ref.layouts[0], self.ref.bootstrap.size
        grid, amp, _ = subframe_grid(self._last_frame[a:a + subframe_samples(lay, self.ref.excess)], lay,
                                     self.ref.excess, self.backoff)
        return delay_profile(grid[lay.n_preamble:], amp[lay.n_preamble:], lay.fft, self.cfg.sample_rate)

    def _l1(self, framed: np.ndarray, nv: np.ndarray) -> tuple[str, dict]:
        """This frame's L1 -> ("ok" | "failed" (FEC or parse) | "changed" (another
        configuration), its fields). While L1 does not move from frame to frame, a frame
        whose cells are the last decoded L1's, re-encoded, within the noise is not decoded
        again (``l1_reused``; sum-product decoding is a quarter of the receiver's time)."""
        basic, detail = self.l1
        n_pre = self.cfg.num_preamble_symbols
        cells = np.concatenate([framed[:basic.size], detail_cells(framed, n_pre, basic.size, detail.size)])
        noise = np.concatenate([nv[:basic.size], detail_cells(nv, n_pre, basic.size, detail.size)])
        expected = self._expected_l1()
        if expected is not None and _within_noise(cells, noise, *expected[:2]):
            self.counters["l1_reused"] += 1
            return "ok", expected[2]
        b, ok_b = l1_decode(cells[:basic.size], "basic", self.cfg.l1_basic_fec_mode, L1B_BITS,
                            noise[:basic.size])
        d, ok_d = l1_decode(cells[basic.size:], "detail", self.cfg.l1_detail_fec_mode,
                            self.detail_bits, noise[basic.size:])
        if not (ok_b and ok_d):
            return "failed", {}
        try:
            fb = parse_l1_basic(b)
            fields = {**fb, **parse_l1_detail(d, fb)}
        except ParseError:
            return "failed", {}
        signature = l1_signature(fb, {k: v for k, v in fields.items() if k.startswith("L1D")})
        if self.signature is None:
            self.signature = signature
        if signature != self.signature:
            return "changed", fields
        if self._l1_static:
            sent = l1_encode(d, "detail", self.cfg.l1_detail_fec_mode)
            self._l1_last = [fields, sent, _min_distance2(sent), None]
        return "ok", fields

    def _expected_l1(self) -> tuple | None:
        """(the cells this frame's L1 has if it says what the last decoded one said, with the
        time offset moved on; their smallest point spacing; its fields), or None."""
        if self._l1_last is None:
            return None
        fields, detail, dmin2, basic = self._l1_last
        if self.cfg.frame_length_ms is None and self._next_offset is not None:
            fields = {**fields, "L1B_time_offset": self._next_offset}
        if basic is None or basic[0] != fields.get("L1B_time_offset"):
            bits = l1_basic({k: v for k, v in fields.items() if k.startswith("L1B_")})
            cells = l1_encode(bits, "basic", self.cfg.l1_basic_fec_mode)
            basic = (fields.get("L1B_time_offset"), np.concatenate([cells, detail]),
                     min(dmin2, _min_distance2(cells)))
            self._l1_last[3] = basic
        return basic[1], basic[2], fields

    def _follow_offset(self, fields: dict) -> None:
        """Check this frame's L1B_time_offset against the prediction from the frame before,
        and predict the next."""
        if self.cfg.frame_length_ms is None:  # symbol-aligned frames carry a time offset
            offset = fields["L1B_time_offset"]
            if self._next_offset is not None and offset != self._next_offset:
                self.counters["l1_inconsistent"] += 1
            self._next_offset = time_offset(self.cfg, offset + self.ref.frame_samples_count)

    def _follow_cti(self, fields: dict) -> None:
        """Check this frame's CTI fields against the cells seen, and join CTI PLPs not joined
        yet (in frame order with the decoding: it moves the deinterleavers)."""
        for i, ids in enumerate(fields["L1D_plp_id"]):
            for j, plp_id in enumerate(ids):
                dec = self.plps.get(plp_id)
                if dec is None or fields["L1D_plp_TI_mode"][i][j] != TI_MODE_CODE["CTI"]:
                    continue
                if not dec.cti_follows(fields["L1D_plp_CTI_start_row"][i][j],
                                       fields["L1D_plp_CTI_fec_block_start"][i][j]):
                    self.counters["l1_inconsistent"] += 1

    def frame(self, iq: np.ndarray) -> tuple[dict[int, list], str]:
        """One frame's samples (from its bootstrap) -> ({plp_id: [TS bytes] or [IPv4
        datagrams]}, L1 status as ``_l1``). A frame whose L1 says another configuration is
        not decoded. ``front`` then ``back``."""
        front = self.front(iq)
        return self.back(front), front[2]

    def front(self, iq: np.ndarray, intact: bool = True) -> tuple:
        """The synchronous half of ``frame``: OFDM, channel estimation, L1 -> what ``back``
        decodes (``back`` must see the frames in order; the next frame's ``front`` may run
        meanwhile). ``intact=False``: the frame is known damaged (its end does not meet the
        next bootstrap: samples lost), so blocks LDPC fails are not retried in float32."""
        framed, noise, nv = self._subframe_cells(iq)
        self._last_frame = iq
        status, fields = self._l1(framed[0], noise[0])
        if status == "changed":
            self.counters["l1_changed"] += 1
            return framed, noise, status, fields, intact
        self._noise[0] += nv
        self._noise[1] += 1
        self.last_mer_db = float(10 * np.log10(1 / nv)) if nv > 0 else None
        self.counters["frames"] += 1
        if status == "failed":
            self.counters["l1_errors"] += 1
        else:
            self._follow_offset(fields)
        return framed, noise, status, fields, intact

    def back(self, front: tuple) -> dict[int, list]:
        """A frame's cells from ``front`` -> {plp_id: [TS bytes] or [IPv4 datagrams]}:
        deinterleaving, demapping, FEC, baseband packets, ALP."""
        framed, noise, status, fields, intact = front
        out: dict[int, list] = {i: [] for i in self.plps}
        if status == "changed":
            return out
        if status == "ok":
            self._follow_cti(fields)
        l1 = sum(c.size for c in self.l1)
        for i, (s, lay, nulls) in enumerate(zip(self.cfg.subframes, self.ref.layouts,
                                                self.ref.nulls, strict=True)):
            pos = data_positions(lay, l1 if i == 0 else 0, nulls)
            data, data_nv = framed[i][pos], noise[i][pos]
            a = 0
            for k, p in enumerate(s.plps):
                if p.layer:
                    continue  # decoded with its core PLP
                core = self.plps.get(p.plp_id)
                cells, cnv = data[a:a + p.cells], data_nv[a:a + p.cells]
                a += p.cells
                if core is None or not core.joined:  # not wanted, or CTI before the first L1
                    continue
                cells, cnv = core.deinterleave(cells, cnv)
                enh = s.plps[k + 1] if k + 1 < len(s.plps) and s.plps[k + 1].layer else None
                if enh is None:
                    self._deliver(out, p, core.decode(cells, cnv, intact))
                    continue
                # LDM: the core first, the enhanced layer counted as noise; then the core
                # re-made from its decoded blocks and taken away
                alpha = 10 ** (-enh.ldm_injection_level_db / 20)
                beta = 1 / np.sqrt(1 + alpha ** 2)
                result = core.decode(cells / beta, alpha ** 2 + cnv / beta ** 2, intact)
                self._deliver(out, p, result)
                if enh.plp_id not in self.plps:
                    continue
                rest = (cells - beta * core.remodulate(result[2])) / (beta * alpha)
                self._deliver(out, enh, self.plps[enh.plp_id].decode(rest, cnv / (beta * alpha) ** 2, intact))
        return out

    @staticmethod
    def _deliver(out: dict, p: PlpConfig, result: tuple) -> None:
        ts, ip, _ = result
        out[p.plp_id] += [ts] if p.input == "ts" else ip

    def restart(self, frames_lost: int = 0) -> None:
        """``frames_lost`` frames were lost: every PLP starts over (as on joining, but
        counting what was lost), the time offset is not predicted."""
        self._next_offset = None
        for d in self.plps.values():
            d.restart(frames_lost)

    def summary(self) -> dict:
        """Counters, MER and per-PLP counters."""
        total, n = self._noise
        return {**self.counters, "mer_db": float(10 * np.log10(n / total)) if n and total > 0 else None,
                "noise_sum": [float(total), int(n)],
                "plps": {i: {**d.counters, **d.depacketizer.counters, **d.alp.counters,
                             "mer_db": d.mer_db} for i, d in self.plps.items()}}

    def demodulate(self, iq: np.ndarray) -> tuple[dict[int, np.ndarray | list], dict]:
        """Whole frames (from a bootstrap) -> ({plp_id: TS bytes, or a list of IPv4 datagrams
        for IP PLPs}, report)."""
        iq = np.asarray(iq, np.complex64)
        size = self.ref.frame_samples_count
        n = iq.size // size
        self.counters["samples_left"] += iq.size - n * size
        out: dict[int, list] = {i: [] for i in self.plps}
        for f in range(n):
            got, _ = self.frame(iq[f * size:(f + 1) * size])
            for i, v in got.items():
                out[i] += v
        return join_payload(out, self.plps), self.summary()


def join_payload(out: dict[int, list], plps: dict) -> dict:
    """{plp_id: [TS pieces] or [datagrams]} -> {plp_id: TS bytes or [datagrams]}."""
    return {i: (np.concatenate(v) if v else np.zeros(0, np.uint8)) if plps[i].cfg.input == "ts"
            else v for i, v in out.items()}


def with_inputs(cfg: Atsc3Config, ip_plps=()) -> Atsc3Config:
    """``cfg`` with PLPs in ``ip_plps`` delivering IPv4 and the others TS (not signalled)."""
    subs = tuple(dataclasses.replace(s, plps=tuple(
        dataclasses.replace(p, input="ip" if p.plp_id in ip_plps else "ts") for p in s.plps))
        for s in cfg.subframes)
    return dataclasses.replace(cfg, subframes=subs)


def read_configuration(iq: np.ndarray, sample_rate: float = 6.912e6) -> Atsc3Config:
    """The configuration of the frame starting at ``iq[0]`` (frame-synchronous, flat channel),
    read from the signal alone: the bootstrap (resampled to 6.144 Msps) gives the first
    preamble symbol's FFT, guard interval, pilot spacing and L1-Basic mode (A/322 Annex H;
    modes 6 and 7, which it cannot signal, are tried when that fails); L1-Basic gives the
    preamble and the first subframe; L1-Detail the rest (read on into the first subframe's data
    symbols when L1 outgrows the preamble, with and without frequency interleaving, which
    L1-Detail itself signals)."""
    from sdrcast.phy.atsc3.bootstrap import SAMPLE_RATE, SYMBOL_SAMPLES, annex_h
    from sdrcast.phy.atsc3.frame_geometry import preamble_row
    from sdrcast.phy.atsc3.framing import config_from_l1
    from sdrcast.phy.atsc3.l1 import parse_l1_detail
    from sdrcast.phy.atsc3.l1_fec import cell_count

    iq = np.asarray(iq, np.complex64)
    boot = ofdm.decode_bootstrap_at(iq, sample_rate)
    iq = iq[round(4 * SYMBOL_SAMPLES * sample_rate / SAMPLE_RATE):]  # from the preamble on
    row = annex_h(boot.preamble_structure)
    fft, gi = row["fft"], row["GI"]
    pattern = "SP8_2" if row["preamble_Dx"] == 8 else "SP3_2"  # only picks the preamble row
    counts = tables_ofdm()["cells_per_symbol"]["preamble_cells"][preamble_row(fft, gi, pattern)]
    backoff = ofdm.guard_samples(gi) // 8

    def preamble(n_pre: int, cred: int) -> tuple[np.ndarray, np.ndarray]:
        """Preamble data cells (deinterleaved) and their noise variances."""
        lay = SymbolLayout(fft, ("FP",) + ("P",) * (n_pre - 1),
                           (counts[4],) + (counts[cred],) * (n_pre - 1), gi, pattern, 0, cred)
        return subframe_cells(iq[:subframe_samples(lay)], lay, True, backoff=backoff)[:2]

    first, nv = preamble(1, 0)
    basic = mode = None
    for mode in dict.fromkeys([row["L1B_fec_mode"], 6, 7]):
        n_basic = cell_count("basic", mode, L1B_BITS)
        bits, ok = l1_decode(first[:n_basic], "basic", mode, L1B_BITS, nv[:n_basic])
        if ok:
            try:
                basic = parse_l1_basic(bits)
                break
            except ParseError:
                continue
    if basic is None:
        raise ConfigError("L1-Basic does not decode in any mode (no ATSC 3.0 frame at iq[0]?)")
    n_pre = basic["L1B_preamble_num_symbols"] + 1
    n_detail = basic["L1B_L1_Detail_total_cells"]
    cells, nv = preamble(n_pre, basic["L1B_preamble_reduced_carriers"]) if n_pre > 1 else (first, nv)
    candidates = [(cells, nv)]
    if n_basic + n_detail > cells.size:  # L1 runs on into the first subframe's data symbols
        candidates = [_first_subframe_cells(iq, basic, gi, fi, backoff) for fi in (True, False)]
    for cells, nv in candidates:  # the frequency interleaver's setting is in L1-Detail itself
        det = detail_cells(cells, n_pre, n_basic, n_detail)
        bits, ok = l1_decode(det, "detail", basic["L1B_L1_Detail_fec_type"] + 1,
                             8 * basic["L1B_L1_Detail_size_bytes"],
                             detail_cells(nv, n_pre, n_basic, n_detail))
        if ok:
            break
    else:
        raise ConfigError("L1-Detail does not decode")
    return config_from_l1(boot, basic, parse_l1_detail(bits, basic), mode)


def _first_subframe_cells(iq: np.ndarray, basic: dict, gi: int, fi: bool,
                          backoff: int) -> tuple[np.ndarray, np.ndarray]:
    """All framed cells of the first subframe as L1-Basic describes it (from after the
    bootstrap), with or without frequency interleaving of its data symbols, and their noise
    variances."""
    from sdrcast.phy.atsc3.frame_geometry import layout

    patterns = list(tables_ofdm()["scattered_pilot_patterns"])
    fft = (8192, 16384, 32768)[basic["L1B_first_sub_fft_size"]]
    pattern = patterns[basic["L1B_first_sub_scattered_pilot_pattern"]]
    boost, cred = basic["L1B_first_sub_scattered_pilot_boost"], basic["L1B_first_sub_reduced_carriers"]
    lay = layout(fft, gi, pattern, cred, basic["L1B_preamble_num_symbols"] + 1,
                 basic["L1B_first_sub_num_ofdm_symbols"] + 1, bool(basic["L1B_first_sub_sbs_first"]),
                 True, basic["L1B_papr_reduction"] == 1, boost)
    excess = basic.get("L1B_excess_samples_per_symbol", 0)
    return subframe_cells(iq[:subframe_samples(lay, excess)], lay, fi, excess, backoff)[:2]
