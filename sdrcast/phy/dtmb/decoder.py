"""DTMB decoding for a known configuration: equalised data symbols in, TS out (GB 20600-2006
inverse chain, 4.3-4.4).

Per frame: symbol deinterleaver with per-symbol channel state (4QAM-NR: the interleaver ran on
the Nordstrom-Robinson coded bits, so LLRs are deinterleaved) -> max-log LLRs (per axis for
4/16/64QAM, exhaustive for the 32QAM cross; 4QAM-NR: soft maximum-likelihood decoding of each
16-bit NR word) -> LDPC (int8, 2 threads) -> BCH -> descrambling. Frames lost to the channel
enter as erasures (zero LLRs), which keeps the deinterleaver aligned.

32QAM and 4QAM-NR frames carry 2.5 and 0.5 codewords, so codewords and TS frames pair frames:
when reception starts on the second frame of a pair, the codeword boundary sits half a frame
in. The first decode tries both boundaries, keeps the one whose codewords check, and in the
second case drops that frame.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from sdrcast.mac.ts import set_transport_error
from sdrcast.phy.dtmb import stages, tables
from sdrcast.phy.dtmb.config import CODEWORD_BITS, DATA_SYMBOLS, DtmbConfig
from sdrcast.phy.dtmb.stages import latency_frames
from sdrcast.phy.fec import BchCode, LdpcCode
from sdrcast.phy.interleave import ConvolutionalInterleaver
from sdrcast.phy.kernels.qam import decision_error_axes, demap_maxlog_axes
from sdrcast.phy.mapping import Constellation

ERASED_NOISE_VAR = 1e6  # noise variance marking an erased symbol (its LLRs are ~0)


def _axes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(I levels, Q levels) when ``points[label_i + (label_q << k)] = I[label_i] + jQ[label_q]``
    (DTMB 4/16/64QAM), else None."""
    m = points.size
    k = (m.bit_length() - 1) // 2
    if (m.bit_length() - 1) % 2:
        return None
    v = np.arange(1 << k)
    levels_i = points[v].real.astype(np.float64)  # labels with the Q part zero
    levels_q = points[v << k].imag.astype(np.float64)  # labels with the I part zero
    lab = np.arange(m)
    if np.allclose(points.real, levels_i[lab & (v.size - 1)]) and \
            np.allclose(points.imag, levels_q[lab >> k]):
        return levels_i, levels_q
    return None


def nr_soft_decode(llr: np.ndarray) -> np.ndarray:
    """Max-log LLRs of the 8 bits behind each Nordstrom-Robinson word (4QAM-NR), MSB first,
    from the LLRs of its 16 coded bits (``llr``: multiple of 16, positive = 0)."""
    words = tables.nr_words().astype(np.float32)  # (256, 16)
    metric = llr.reshape(-1, 16) @ (1 - 2 * words).T / 2  # (n, 256): log-likelihood up to a constant
    info = (np.arange(256)[:, None] >> (7 - np.arange(8))[None, :]) & 1  # (256, 8), MSB first
    out = np.empty((metric.shape[0], 8), np.float32)
    for b in range(8):
        out[:, b] = metric[:, info[:, b] == 0].max(axis=1) - metric[:, info[:, b] == 1].max(axis=1)
    return out.reshape(-1)


HISTORY = 2000  # per-codeword / per-frame measurements kept (the newest)


@dataclass
class DecoderReport:
    """Decoder counters; the per-codeword LDPC iterations and per-frame MER keep the newest
    ``HISTORY`` values, so a report stays small however long the stream."""

    frames: int = 0
    frames_lost: int = 0  # fed as erasures (missed during re-acquisition)
    frames_out: int = 0
    frames_dropped: int = 0  # deinterleaved but not decoded: the decoder was behind a live signal
    frames_skipped_for_pairing: int = 0  # 32QAM/4QAM-NR joined on an odd frame
    ldpc_iterations: deque = field(default_factory=lambda: deque(maxlen=HISTORY))
    fec_blocks: int = 0  # LDPC codewords decoded
    ldpc_iterations_run: int = 0  # summed over them
    ldpc_failures: int = 0
    bch_failures: int = 0
    bch_corrected: int = 0
    ts_packets_marked: int = 0
    pre_ldpc_bit_errors: int = 0  # hard channel decisions against corrected codewords
    pre_ldpc_bits: int = 0
    mer_db: deque = field(default_factory=lambda: deque(maxlen=HISTORY))
    noise_sum: list = field(default_factory=lambda: [0.0, 0])  # sum of 1/MER (linear), frames

    @property
    def pre_ldpc_ber(self) -> float | None:
        return self.pre_ldpc_bit_errors / self.pre_ldpc_bits if self.pre_ldpc_bits else None

    def to_dict(self) -> dict:
        return {**self.__dict__, "ldpc_iterations": list(self.ldpc_iterations),
                "mer_db": list(self.mer_db), "pre_ldpc_ber": self.pre_ldpc_ber}


class DtmbDecoder:
    """``decode(symbols, noise_var) -> (ts bytes, report)`` for frames of 3744 equalised data
    symbols (``[n, 3744]``, in received order) and their noise variances.

    Output starts once the deinterleaver is full (``latency_frames`` frames in) and is whole
    codeword groups of TS bytes; blocks BCH could not correct are returned as decoded, counted,
    and their TS packets get the transport_error_indicator.
    """

    def __init__(self, cfg: DtmbConfig, iterations: int = 30, precision: str = "int8",
                 workers: int = 2, report: DecoderReport | None = None):
        self.cfg = cfg
        self.iterations, self.precision, self.workers = iterations, precision, workers
        self.bch, self.ldpc = BchCode.dtmb(), LdpcCode.dtmb(cfg.ldpc_rate)
        self.nr = cfg.constellation == "4QAM-NR"
        if self.nr:
            self.deint = ConvolutionalInterleaver(52, cfg.interleaver_unit, np.float32).inverse()
        else:
            self.deint = ConvolutionalInterleaver(52, cfg.interleaver_unit, np.complex64).inverse()
            self.deint_nv = ConvolutionalInterleaver(52, cfg.interleaver_unit, np.float32).inverse()
        self.latency_frames = latency_frames(cfg)
        self.points = tables.constellation_points("4QAM" if self.nr else cfg.constellation)
        self.qam = Constellation(self.points, cfg.constellation)
        self.axes = _axes(self.points)  # per-axis levels when the constellation is separable
        self.frame = 0  # frames received
        self.phase: int | None = None if cfg.frames_per_group > 1 else 0
        self.pending = np.zeros(0, np.float32)  # LLRs waiting for a whole codeword group
        self._discard = 0  # frames to drop after a drop, to start on a codeword group again
        self.report = report if report is not None else DecoderReport()

    def _llr(self, sym: np.ndarray, nv: np.ndarray) -> np.ndarray:
        """Max-log LLRs, first bit of each label first."""
        if self.axes is not None:
            li, lq = self.axes
            return demap_maxlog_axes(sym, li, lq, np.maximum(nv, 1e-6).astype(np.float64))
        bps = int(np.log2(self.points.size))  # 32QAM cross: exhaustive, labels LSB first
        return self.qam.demap(sym, nv).reshape(-1, bps)[:, ::-1].reshape(-1)

    def _mer(self, sym: np.ndarray, nv: np.ndarray) -> None:
        ok = nv < ERASED_NOISE_VAR / 2
        if not ok.any():
            return
        if self.axes is not None:  # nearest level per axis
            err, energy = decision_error_axes(sym, *self.axes, ok)
        else:
            s = sym[ok]
            ideal = self.points[self.qam.decide(s)]
            err, energy = float(np.sum(np.abs(s - ideal) ** 2)), float(np.sum(np.abs(ideal) ** 2))
        self.report.mer_db.append(float(10 * np.log10(energy / max(err, 1e-12))))
        self.report.noise_sum[0] += max(err, 1e-12) / energy
        self.report.noise_sum[1] += 1

    def decode(self, symbols: np.ndarray, noise_var: np.ndarray,
               drop: bool = False) -> tuple[np.ndarray, DecoderReport]:
        """Deinterleave and decode. ``drop``: the decoder is behind a live signal: these frames
        pass the deinterleaver (which must stay aligned, and spreads them into later frames)
        but the frames coming out are neither demapped nor decoded, only counted
        (``frames_dropped``), with any partial codeword group (32QAM, 4QAM-NR)."""
        symbols = np.asarray(symbols, np.complex64).reshape(-1, DATA_SYMBOLS)
        noise_var = np.asarray(noise_var, np.float32).reshape(-1, DATA_SYMBOLS)
        drop = drop and self.phase is not None  # the codeword phase is found on decoded frames
        llrs, dropped = [], 0
        for sym, nv in zip(symbols, noise_var, strict=True):
            self.frame += 1
            self.report.frames += 1
            if self.nr:  # 4QAM LLRs, deinterleaved bit by bit
                if not drop:
                    self._mer(sym, nv)
                llr = self.deint(self._llr(sym, nv))
            else:
                sym, nv = self.deint(sym), self.deint_nv(nv)
            if self.frame <= self.latency_frames:
                continue  # deinterleaver still filling
            if drop or self._discard:  # given up, or realigning on a codeword group
                self._discard -= not drop
                dropped += 1
                continue
            if self.nr:
                llrs.append(nr_soft_decode(llr))
            else:
                self._mer(sym, nv)
                llrs.append(self._llr(sym, nv))
        if drop:
            group = self.cfg.frames_per_group
            partial = self.pending.size // self.cfg.ldpc_bits_per_frame  # < a group's frames
            since = (group - self._discard) % group if self._discard else partial
            self.pending = self.pending[:0]
            self.report.frames_dropped += dropped + partial
            self._discard = -(since + dropped) % group  # frames to the next group boundary
            return np.zeros(0, np.uint8), self.report
        self.report.frames_dropped += dropped
        if llrs:
            self.pending = np.concatenate([self.pending, *llrs])
        if self.phase is None:
            self._find_phase()
            if self.phase is None:
                return np.zeros(0, np.uint8), self.report
        return self._decode_pending(), self.report

    def _find_phase(self) -> None:
        """Frames hold half codewords (32QAM, 4QAM-NR) and a codeword pair (and the TS frames
        in it) starts on an even frame: if the codewords check half a frame in, reception
        started on an odd frame, whose bits are dropped."""
        half = self.cfg.ldpc_bits_per_frame % CODEWORD_BITS
        if self.pending.size < half + 2 * CODEWORD_BITS:
            return
        fails = []
        for off in (0, half):
            _, rep = self.ldpc.decode(self.pending[off:off + 2 * CODEWORD_BITS].reshape(2, -1),
                                      iterations=self.iterations, precision=self.precision)
            fails.append(int((~rep.parity_ok).sum()))
        self.phase = 0 if fails[0] <= fails[1] else 1
        self.pending = self.pending[self.phase * self.cfg.ldpc_bits_per_frame:]
        self.report.frames_skipped_for_pairing = self.phase

    def _decode_pending(self) -> np.ndarray:
        cfg = self.cfg
        group = cfg.ldpc_bits_per_frame * cfg.frames_per_group
        n_groups = self.pending.size // group
        if n_groups == 0:
            return np.zeros(0, np.uint8)
        use, self.pending = self.pending[:n_groups * group], self.pending[n_groups * group:]
        llr = use.reshape(-1, self.ldpc.n)
        bits, rep = self.ldpc.decode(llr, iterations=self.iterations, precision=self.precision,
                                     workers=self.workers)
        self.report.ldpc_iterations.extend(rep.iterations.tolist())
        self.report.fec_blocks += len(llr)
        self.report.ldpc_iterations_run += int(rep.iterations.sum())
        self.report.ldpc_failures += int((~rep.parity_ok).sum())
        ok = rep.parity_ok
        if ok.any():  # channel bit errors, from the codewords LDPC corrected (erasures excluded)
            m = self.ldpc.mother_llr(llr[ok])[self.ldpc.info_cols].T
            seen = m != 0
            self.report.pre_ldpc_bit_errors += int(((m < 0) != bits[ok].astype(bool))[seen].sum())
            self.report.pre_ldpc_bits += int(seen.sum())
        msg, fixed = self.bch.decode(bits.reshape(-1, 762))
        self.report.bch_failures += int((fixed < 0).sum())
        self.report.bch_corrected += int(fixed[fixed > 0].sum())
        payload = msg.reshape(-1, cfg.ts_bytes_per_frame * 8)
        out = np.concatenate([np.packbits(stages.scramble_frame(f)) for f in payload])
        # a TS packet is two BCH blocks (188 = 2 x 94 bytes, frames hold whole packets): mark
        # packets with a block BCH could not correct, or from a codeword LDPC did not bring to
        # a valid one (the t=1 BCH "corrects" most random words), never drop them
        unsure = (fixed < 0) | np.repeat(~ok, self.ldpc.k // self.bch.n)
        bad = unsure.reshape(-1, 2).any(axis=1)
        if bad.any():
            set_transport_error(out, bad)
            self.report.ts_packets_marked += int(bad.sum())
        self.report.frames_out += payload.shape[0]
        return out
