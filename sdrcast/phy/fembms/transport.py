"""Transport-channel coding of MCH and DL-SCH (3GPP TS 36.212 5.3.2): transport block -> CRC24A
-> code blocks (CRC24B, filler) -> turbo -> rate matching per block (E_r from G, Q_m and C) ->
concatenation; and back from LLRs with soft combining and CRC-checked turbo decoding."""
from __future__ import annotations

import numpy as np
from numba.typed import List

from sdrcast.config import require_range
from sdrcast.phy.crc import CRC24A, CRC24B
from sdrcast.phy.fec.rate_matching import RateMatcher
from sdrcast.phy.fec.turbo import CodeBlocks
from sdrcast.phy.kernels.turbo import encode_rate_matched


class TransportCoding:
    """``tbs`` bits into ``G`` coded bits for modulation order ``qm`` (one layer) at redundancy
    version ``rv``; ``n_cb`` limits the soft buffer (None: the whole circular buffer)."""

    def __init__(self, tbs: int, G: int, qm: int, rv: int = 0, n_cb: int | None = None):
        require_range("G", G, qm)
        self.tbs, self.G, self.qm = tbs, G, qm
        self.blocks = CodeBlocks(tbs)
        seg = self.blocks.seg
        g_prime = G // qm
        gamma = g_prime % seg.C
        self.E = [qm * (g_prime // seg.C) if r <= seg.C - gamma - 1 else qm * -(-g_prime // seg.C)
                  for r in range(seg.C)]
        self.matchers = [RateMatcher.turbo(K, E, rv, seg.filler if r == 0 else 0, n_cb)
                         for r, (K, E) in enumerate(zip(seg.sizes, self.E, strict=True))]
        self._sizes = np.array(seg.sizes, np.int64)
        self._perms = np.concatenate([c.perm for c in self.blocks.codes])
        self._positions = List([m.positions.astype(np.int64) for m in self.matchers])

    def encode(self, tb_bits: np.ndarray) -> np.ndarray:
        """TB bits -> G coded bits (one kernel call for all code blocks)."""
        seg = self.blocks.seg
        b = np.concatenate([np.zeros(seg.filler, np.uint8), CRC24A.attach(np.asarray(tb_bits, np.uint8))])
        e = np.empty(self.G, np.uint8)
        encode_rate_matched(b, self._sizes, CRC24B.poly if seg.crc else 0, CRC24B.table, self._perms,
                            self._positions, e)
        return e

    def decode(self, llr: np.ndarray, iterations: int = 6) -> tuple[np.ndarray, bool, list[int]]:
        """G LLRs -> (TB bits, CRC24A held, turbo iterations per block)."""
        edges = np.cumsum([0] + self.E)
        streams = [m.llrs(llr[a:b]) for m, a, b in zip(self.matchers, edges[:-1], edges[1:], strict=True)]
        return self.blocks.decode(streams, iterations)
