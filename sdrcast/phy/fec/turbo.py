"""The LTE turbo code and code-block segmentation (3GPP TS 36.212 5.1.2, 5.1.3.2).

``TurboCode(K)`` encodes a code block of K bits (one of the 188 sizes of Table 5.1.3-3) into
``d[3, K + 4]`` and decodes LLRs back; ``segment(B)`` splits a transport block (CRC24A
attached, B bits) into code blocks with CRC24B and filler bits; ``CodeBlocks`` decodes a
transport block's blocks back. Tables: ``lte_qpp_36212_t5133.csv`` (K, f1, f2).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from sdrcast.config import require_one_of, require_range
from sdrcast.phy.crc import CRC24A, CRC24B
from sdrcast.phy.kernels import turbo as k
from sdrcast.phy.parallel import parallel_map

Z = 6144  # largest code block
EXTRINSIC_SCALE = 0.7  # max-log-MAP's usual correction


@cache
def qpp_table() -> dict[int, tuple[int, int]]:
    """K -> (f1, f2), Table 5.1.3-3."""
    text = resources.files("sdrcast.phy.fec").joinpath("lte_qpp_36212_t5133.csv").read_text()
    rows = [line.split(",") for line in text.split()[1:]]
    return {int(r[1]): (int(r[2]), int(r[3])) for r in rows}


class TurboCode:
    """The rate-1/3 PCCC for one block size ``K``; ``TurboCode.lte(K)`` is cached."""

    def __init__(self, K: int):
        table = qpp_table()
        require_one_of("K", K, sorted(table))
        f1, f2 = table[K]
        i = np.arange(K, dtype=np.int64)
        self.K = K
        self.perm = ((f1 * i + f2 * i * i) % K).astype(np.int64)  # c'_i = c_perm(i)
        # decoded in equal windows side by side: as many (up to 32) as keep them >= 48 steps
        self.windows = next(w for w in (32, 16, 8, 4, 2, 1) if K % w == 0 and K // w >= 48 or w == 1)
        self._layout = _lane_layout(self.perm, self.windows)

    @staticmethod
    @cache
    def lte(K: int) -> TurboCode:
        return TurboCode(K)

    def encode(self, bits: np.ndarray) -> np.ndarray:
        """``bits[K]`` (filler bits as 0) -> ``d[3, K + 4]`` uint8."""
        return k.encode(np.ascontiguousarray(bits, np.uint8), self.perm)

    def decode(self, llr: np.ndarray, iterations: int = 6, crc: str | None = None,
               ) -> tuple[np.ndarray, int, bool]:
        """LLRs ``[3, K + 4]`` (positive = 0) -> (bits[K], iterations run, CRC held). ``crc``:
        ``"24A"`` or ``"24B"`` over the whole block stops the iterations once it holds
        (``None``: all iterations, and the flag is False)."""
        require_range("iterations", iterations, 1, 64)
        check = {None: (0, 0, CRC24B.table), "24A": (24, CRC24A.poly, CRC24A.table),
                 "24B": (24, CRC24B.poly, CRC24B.table)}[crc]
        return k.decode(np.ascontiguousarray(llr, np.float32), iterations, *check,
                        np.float32(EXTRINSIC_SCALE), self.windows, *self._layout)


def _lane_layout(perm: np.ndarray, windows: int) -> tuple[np.ndarray, ...]:
    """The decoder's lane layout (``kernels.turbo.decode``): position q = t windows + w holds
    step t of window w. Returns, per position, the block index there, the positions of the
    same bit in the other decoder's layout (natural -> interleaved, interleaved -> natural)
    and the natural index of interleaved position q."""
    length = perm.size // windows
    t, w = np.divmod(np.arange(perm.size), windows)
    at = w * length + t
    inverse = np.argsort(perm)
    def position(j):
        return (j % length) * windows + j // length
    return tuple(a.astype(np.uint32) for a in (at, position(inverse[at]), position(perm[at]), perm[at]))


@dataclass(frozen=True)
class Segmentation:
    """36.212 5.1.2 for B bits: ``sizes`` (K_r of each block, the C- smaller ones first),
    ``filler`` (F zeros at the start of block 0), ``crc`` (CRC24B per block: C > 1)."""

    B: int
    sizes: tuple[int, ...]
    filler: int

    @property
    def C(self) -> int:
        return len(self.sizes)

    @property
    def crc(self) -> bool:
        return self.C > 1


@cache
def segment(B: int) -> Segmentation:
    """Code blocks for a transport block of B bits (CRC24A included)."""
    require_range("B", B, 1, 6 * 10 ** 5)
    sizes = sorted(qpp_table())
    if B <= Z:
        c, b_prime = 1, B
    else:
        c = -(-B // (Z - 24))
        b_prime = B + 24 * c
    k_plus = next(s for s in sizes if c * s >= b_prime)
    if c == 1:
        c_plus, c_minus, k_minus = 1, 0, 0
    else:
        k_minus = max(s for s in sizes if s < k_plus)
        c_minus = (c * k_plus - b_prime) // (k_plus - k_minus)
        c_plus = c - c_minus
    filler = c_plus * k_plus + c_minus * k_minus - b_prime
    return Segmentation(B, (k_minus,) * c_minus + (k_plus,) * c_plus, filler)


class CodeBlocks:
    """A transport block's code blocks (36.212 5.3.2.1-5.3.2.3 for DL-SCH, MCH and PCH): the
    segmentation and a turbo code per block, and decoding back to the TB with its CRC24A
    checked. Encoding, rate matching included, is one kernel call
    (``kernels.turbo.encode_rate_matched``, driven by ``phy.fembms.transport``)."""

    def __init__(self, tbs: int):
        require_range("tbs", tbs, 1, 10 ** 6)
        self.tbs = tbs
        self.seg = segment(tbs + 24)
        self.codes = [TurboCode.lte(K) for K in self.seg.sizes]

    def decode(self, llrs: list[np.ndarray], iterations: int = 6,
               workers: int = 2) -> tuple[np.ndarray, bool, list[int]]:
        """Per-block LLRs ``[3, K_r + 4]`` -> (TB bits, TB CRC held, iterations per block).
        Filler bits are known zeros."""
        llrs = [np.array(x, np.float32) for x in llrs]
        if self.seg.filler:
            llrs[0][0, :self.seg.filler] = 1e4  # known zeros
        crc = "24B" if self.seg.crc else "24A"
        results = parallel_map(lambda a: a[0].decode(a[1], iterations, crc),
                               list(zip(self.codes, llrs, strict=True)), workers)
        parts = []
        for r, (bits, _, _) in enumerate(results):
            body = bits[:-24] if self.seg.crc else bits
            parts.append(body[self.seg.filler:] if r == 0 else body)
        b = np.concatenate(parts)
        return b[:self.tbs], CRC24A.check(b), [it for _, it, _ in results]
