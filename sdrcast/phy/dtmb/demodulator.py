"""Frame-aligned DTMB demodulation for a known configuration: the decoding half of the receiver
(GB 20600-2006 inverse chain). Synchronisation, mode detection and multipath channel estimation
belong to the full receiver built on top of it.

Per frame: complex gain from the known PN header (flat-channel estimate) -> body (C=3780: unitary
3780-point DFT and inverse frequency interleaver) -> SI and data split -> equalise -> symbol
deinterleaver (with per-symbol channel state) -> max-log LLRs (per axis for 4/16/64QAM,
exhaustive for the 32QAM cross) -> LDPC (int8, 2 threads) -> BCH -> descrambling.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sdrcast.errors import ConfigError
from sdrcast.mac.ts import set_transport_error
from sdrcast.phy.dtmb import stages, tables
from sdrcast.phy.dtmb.config import BODY_SYMBOLS, DATA_SYMBOLS, DtmbConfig
from sdrcast.phy.fec import BchCode, LdpcCode
from sdrcast.phy.interleave import ConvolutionalInterleaver
from sdrcast.phy.kernels.qam import demap_maxlog_axes
from sdrcast.phy.mapping import Constellation


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


@dataclass
class DemodReport:
    frames: int = 0
    frames_out: int = 0
    ldpc_iterations: list[int] = field(default_factory=list)
    ldpc_failures: int = 0
    bch_failures: int = 0
    bch_corrected: int = 0
    ts_packets_marked: int = 0
    mer_db: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class DtmbDemodulator:
    """Known-config, frame-aligned demodulator: ``demodulate(frames) -> (ts bytes, report)``.

    ``frames``: ``[n, cfg.frame_symbols]`` complex samples, the first at superframe index
    ``first_frame`` and starting a FEC group. Output starts once the deinterleaver is full
    (``latency_frames`` frames in) and is whole FEC groups of TS bytes; blocks BCH could not
    correct are returned as decoded and counted (the TS layer marks them).
    """

    def __init__(self, cfg: DtmbConfig, iterations: int = 30, precision: str = "int8",
                 first_frame: int = 0, workers: int = 2):
        if cfg.constellation == "4QAM-NR":
            raise ConfigError("constellation='4QAM-NR' reception is not implemented yet; "
                              "allowed: 4QAM, 16QAM, 32QAM, 64QAM")
        self.cfg = cfg
        self.iterations, self.precision, self.workers = iterations, precision, workers
        self.bch, self.ldpc = BchCode.dtmb(), LdpcCode.dtmb(cfg.ldpc_rate)
        fwd = ConvolutionalInterleaver(52, cfg.interleaver_unit, np.complex64)
        self.deint = fwd.inverse()
        self.deint_csi = ConvolutionalInterleaver(52, cfg.interleaver_unit, np.float32).inverse()
        self.latency_frames = fwd.latency // DATA_SYMBOLS
        self.points = tables.constellation_points(cfg.constellation)
        self.qam = Constellation(self.points, cfg.constellation)
        self.axes = _axes(self.points)  # per-axis levels when the constellation is separable
        self.first_frame = first_frame  # superframe index of the first frame received
        self.frame = 0  # frames received
        self.pending = np.zeros(0, np.float32)  # LLRs waiting for a whole FEC group
        self.report = DemodReport()

    def _equalise(self, frame: np.ndarray) -> tuple[np.ndarray, float]:
        cfg = self.cfg
        ref = stages.header(cfg, (self.first_frame + self.frame) % stages.frames_per_superframe(cfg))
        rx_head = frame[:cfg.header_symbols]
        h = np.vdot(ref, rx_head) / np.vdot(ref, ref)
        noise = float(np.mean(np.abs(rx_head - h * ref) ** 2))
        body = frame[cfg.header_symbols:]
        if cfg.carriers == 3780:
            X = np.fft.fft(body) / np.sqrt(BODY_SYMBOLS)
            data = X[tables.freq_interleaver()][~tables.si_mask()]
        else:
            data = body[36:]
        return (data / h).astype(np.complex64), max(noise / abs(h) ** 2, 1e-6)

    def demodulate(self, frames: np.ndarray) -> tuple[np.ndarray, DemodReport]:
        cfg = self.cfg
        frames = np.asarray(frames, np.complex64).reshape(-1, cfg.frame_symbols)
        llrs = []
        for fr in frames:
            data, nv = self._equalise(fr)
            self.frame += 1
            self.report.frames += 1
            sym = self.deint(data)
            csi = self.deint_csi(np.full(DATA_SYMBOLS, nv, np.float32))
            if self.frame <= self.latency_frames:
                continue  # deinterleaver still filling
            if self.axes is not None:
                li, lq = self.axes
                llr = demap_maxlog_axes(sym, li, lq, np.maximum(csi, 1e-6).astype(np.float64))
                ideal = (li[np.abs(sym.real[:, None] - li[None, :]).argmin(axis=1)]
                         + 1j * lq[np.abs(sym.imag[:, None] - lq[None, :]).argmin(axis=1)])
            else:  # 32QAM (a cross constellation): exhaustive search, labels LSB first
                bps = int(np.log2(self.points.size))
                llr = self.qam.demap(sym, csi).reshape(-1, bps)[:, ::-1].reshape(-1)
                ideal = self.points[self.qam.decide(sym)]
            self.report.mer_db.append(float(10 * np.log10(
                np.mean(np.abs(ideal) ** 2) / max(np.mean(np.abs(sym - ideal) ** 2), 1e-12))))
            llrs.append(llr)
        if llrs:
            self.pending = np.concatenate([self.pending, *llrs])
        group = cfg.ldpc_bits_per_frame * cfg.frames_per_group
        n_groups = self.pending.size // group
        if n_groups == 0:
            return np.zeros(0, np.uint8), self.report
        use, self.pending = self.pending[:n_groups * group], self.pending[n_groups * group:]
        bits, rep = self.ldpc.decode(use.reshape(-1, self.ldpc.n), iterations=self.iterations,
                                     precision=self.precision, workers=self.workers)
        self.report.ldpc_iterations += rep.iterations.tolist()
        self.report.ldpc_failures += int((~rep.parity_ok).sum())
        msg, fixed = self.bch.decode(bits.reshape(-1, 762))
        self.report.bch_failures += int((fixed < 0).sum())
        self.report.bch_corrected += int(fixed[fixed > 0].sum())
        payload = msg.reshape(-1, cfg.ts_bytes_per_frame * 8)
        out = np.concatenate([np.packbits(stages.scramble_frame(f)) for f in payload])
        # a TS packet is two BCH blocks (188 = 2 x 94 bytes, frames hold whole packets): mark
        # packets with an uncorrectable block with transport_error_indicator, never drop them
        bad = (fixed < 0).reshape(-1, 2).any(axis=1)
        if bad.any():
            set_transport_error(out, bad)
            self.report.ts_packets_marked += int(bad.sum())
        self.report.frames_out += payload.shape[0]
        return out, self.report
