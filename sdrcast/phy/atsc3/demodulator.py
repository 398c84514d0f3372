"""ATSC 3.0 receiver back end for a frame-synchronous signal: the inverse of every transmitter
stage after synchronisation (OFDM, pilots, frequency interleaver, framing, L1, time
interleaver, mapping, bit interleaver, LDPC, outer code, scrambler, baseband packets, ALP).

``Atsc3Demodulator(cfg).demodulate(iq)`` takes whole frames starting at a bootstrap, with no
carrier, clock or timing error and a flat channel (AWGN): what the loopback tests and
``make demo`` use. The noise variance comes from the pilots. L1-Basic and L1-Detail are
decoded and checked against the configuration. Not built yet: acquisition, synchronisation and
channel estimation (a real receiver's front end), CTI and LDM on the receive side.
"""
from __future__ import annotations

import numpy as np

from sdrcast.errors import ConfigError
from sdrcast.mac.atsc3.alp import Decapsulator
from sdrcast.mac.atsc3.baseband import BasebandDepacketizer
from sdrcast.phy.atsc3 import frequency_interleaver, ofdm, pilots
from sdrcast.phy.atsc3.bit_interleaver import permutation
from sdrcast.phy.atsc3.config import Atsc3Config, PlpConfig
from sdrcast.phy.atsc3.frame_builder import data_positions, detail_cells
from sdrcast.phy.atsc3.framing import l1_bits
from sdrcast.phy.atsc3.l1_fec import decode as l1_decode
from sdrcast.phy.atsc3.scrambler import scramble
from sdrcast.phy.atsc3.time_interleaver import hybrid
from sdrcast.phy.atsc3.transmitter import Atsc3Transmitter
from sdrcast.phy.mapping import Constellation


class PlpDecoder:
    """One PLP's frame of cells -> baseband packets -> TS bytes or IPv4 datagrams."""

    def __init__(self, cfg: PlpConfig, workers: int, iterations: int):
        from sdrcast.phy.atsc3.transmitter import PlpEncoder

        enc = PlpEncoder(cfg, workers)  # the same codes and constellation as the transmitter
        self.cfg, self.workers, self.iterations = cfg, workers, iterations
        self.ldpc, self.outer = enc.ldpc, enc.outer
        self.points = Constellation(enc.points)
        self.bit_order = permutation(cfg.ldpc_length, cfg.code_rate, cfg.modulation)
        self.ti = None
        if cfg.ti_mode == "HTI":
            self.ti = hybrid(np.arange(cfg.cells), cfg.cells_per_fec_block, cfg.hti_ti_blocks,
                             cfg.hti_fec_blocks_max or cfg.fec_blocks, cfg.hti_cell_interleaver)
        self.depacketizer = BasebandDepacketizer()
        self.alp = Decapsulator()
        self.counters = {"fec_blocks": 0, "ldpc_failures": 0, "outer_failures": 0,
                         "ldpc_iterations": 0}

    def decode(self, cells: np.ndarray, noise_var: float) -> tuple[np.ndarray, list[np.ndarray]]:
        """A frame's cells of this PLP -> (TS bytes, IPv4 datagrams)."""
        if self.ti is not None:
            out = np.empty_like(cells)
            out[self.ti] = cells
            cells = out
        n = self.cfg.ldpc_length
        llr = self.points.demap(cells, noise_var).reshape(-1, n)
        cw = np.empty_like(llr)
        cw[:, self.bit_order] = llr
        info, rep = self.ldpc.decode(cw, self.iterations, workers=self.workers, precision="int8")
        good = rep.parity_ok.copy()
        if self.cfg.fec_type == "BCH+LDPC":
            info, corrected = self.outer.decode(info, self.workers)
            outer_ok = corrected >= 0
        elif self.cfg.fec_type == "CRC+LDPC":
            info, outer_ok = self.outer.decode(info)
        else:
            outer_ok = np.ones(len(info), bool)
        self.counters["outer_failures"] += int(np.count_nonzero(~outer_ok))
        good &= outer_ok
        self.counters["fec_blocks"] += len(info)
        self.counters["ldpc_failures"] += int(np.count_nonzero(~rep.parity_ok))
        self.counters["ldpc_iterations"] += int(rep.iterations.sum())
        packets = scramble(np.packbits(info[:, :self.cfg.k_payload], axis=1))
        ts, ip = [], []
        for piece, restarted in self.depacketizer.push(packets, good):
            if restarted:  # a packet was lost: drop the ALP packet it cut
                self.alp.reset()
            t, d = self.alp.push(piece)
            ts.append(t)
            ip += d
        return (np.concatenate(ts) if ts else np.zeros(0, np.uint8)), ip


class Atsc3Demodulator:
    """Whole frames of a frame-synchronous signal -> per-PLP payload and a report."""

    def __init__(self, cfg: Atsc3Config, workers: int = 2, iterations: int = 25):
        for s in cfg.subframes:
            for p in s.plps:
                if p.layer or p.ti_mode == "CTI":
                    raise ConfigError(f"PLP {p.plp_id}: the receiver back end does not decode "
                                      f"{'LDM layers' if p.layer else 'CTI'} yet")
        self.cfg = cfg
        self.ref = Atsc3Transmitter(cfg)  # layouts, L1 and lengths, exactly as transmitted
        self.l1 = self.ref.l1_cells()
        self.l1_bits = l1_bits(cfg)
        self.plps = {p.plp_id: PlpDecoder(p, workers, iterations)
                     for s in cfg.subframes for p in s.plps}
        self.frames = 0
        self.report = {"frames": 0, "l1_errors": 0, "noise_var": [], "samples_left": 0}

    def _subframe_cells(self, iq: np.ndarray) -> tuple[list[np.ndarray], float]:
        """One frame's samples -> framed cells per subframe and the pilot-based noise variance."""
        a = self.ref.bootstrap.size
        out, err, count = [], 0.0, 0
        for s, lay in zip(self.cfg.subframes, self.ref.layouts, strict=True):
            n = len(lay.kinds) * (lay.fft + ofdm.guard_samples(s.guard_interval)) + \
                sum(k not in ("FP", "P") for k in lay.kinds) * self.ref.excess
            args = (lay, s.guard_interval, s.scattered_pilot_pattern, s.scattered_pilot_boost,
                    s.reduced_carriers)
            symbols = ofdm.demodulate(iq[a:a + n], *args, self.ref.excess)
            a += n
            n_pre = sum(k in ("FP", "P") for k in lay.kinds)
            for j, (kind, x) in enumerate(zip(lay.kinds, symbols, strict=True)):
                amp, _ = pilots.carrier_map(lay.fft, kind, j - n_pre, *args[1:], lay.tr)
                m = amp != 0
                err += float(np.sum(np.abs(x[m] - amp[m]) ** 2))
                count += int(m.sum())
            cells = pilots.extract(symbols, *args)[:lay.total_cells]
            out.append(frequency_interleaver.deinterleave(cells, lay, s.frequency_interleaver))
        return out, err / max(count, 1)

    def _check_l1(self, framed: np.ndarray, nv: float) -> bool:
        basic, detail = self.l1
        n_pre = self.cfg.num_preamble_symbols
        tx_basic, tx_detail = self.l1_bits
        b, ok_b = l1_decode(framed[:basic.size], "basic", self.cfg.l1_basic_fec_mode,
                            tx_basic.size, nv)
        d, ok_d = l1_decode(detail_cells(framed, n_pre, basic.size, detail.size), "detail",
                            self.cfg.l1_detail_fec_mode, tx_detail.size, nv)
        return ok_b and ok_d and np.array_equal(b, tx_basic) and np.array_equal(d, tx_detail)

    def demodulate(self, iq: np.ndarray) -> tuple[dict[int, np.ndarray | list], dict]:
        """Whole frames (from a bootstrap) -> ({plp_id: TS bytes, or a list of IPv4 datagrams
        for IP PLPs}, report)."""
        iq = np.asarray(iq, np.complex64)
        size = self.ref.frame_samples_count
        n = iq.size // size
        self.report["samples_left"] += iq.size - n * size
        out: dict[int, list] = {i: [] for i in self.plps}
        for f in range(n):
            framed, nv = self._subframe_cells(iq[f * size:(f + 1) * size])
            self.report["noise_var"].append(nv)
            if not self._check_l1(framed[0], nv):
                self.report["l1_errors"] += 1
            l1 = sum(c.size for c in self.l1)
            for i, (s, lay, nulls) in enumerate(zip(self.cfg.subframes, self.ref.layouts,
                                                    self.ref.nulls, strict=True)):
                data = framed[i][data_positions(lay, l1 if i == 0 else 0, nulls)]
                a = 0
                for p in s.plps:
                    ts, ip = self.plps[p.plp_id].decode(data[a:a + p.cells], nv)
                    a += p.cells
                    out[p.plp_id] += [ts] if p.input == "ts" else ip
            self.report["frames"] += 1
        payload = {i: (np.concatenate(v) if v else np.zeros(0, np.uint8)) if self.plps[i].cfg.input == "ts"
                   else v for i, v in out.items()}
        nvs = self.report["noise_var"]
        report = {**{k: v for k, v in self.report.items() if k != "noise_var"},
                  "mer_db": float(10 * np.log10(1 / np.mean(nvs))) if nvs else None,
                  "plps": {i: {**d.counters, **d.depacketizer.counters, **d.alp.counters}
                           for i, d in self.plps.items()}}
        return payload, report
