"""Binary BCH codes: ATSC 3.0 outer code (A/322 6.1.2.1, t = 12) and DTMB BCH(762,752)
(GB 20600-2006 4.3, shortened BCH(1023,1013), t = 1). Systematic, MSB first."""
from __future__ import annotations

from functools import cache

import numpy as np

from sdrcast.config import require_one_of
from sdrcast.errors import ConfigError
from sdrcast.phy.fec.ldpc import ATSC3_RATES
from sdrcast.phy.kernels import bch as k
from sdrcast.phy.parallel import parallel_map
from sdrcast.phy.tables import load_json


def _poly_int(coeffs_ascending) -> int:
    return sum(int(c) << i for i, c in enumerate(coeffs_ascending))


class BchCode:
    """A shortened narrow-sense binary BCH code over GF(2^m) correcting ``t`` errors.

    ``n``/``k``: codeword/message bits; ``generator``: g(x) as an int (bit i = x^i);
    ``prim_poly``: the field's primitive polynomial (the minimal polynomial of alpha).
    """

    def __init__(self, name: str, n: int, k_bits: int, m: int, t: int, generator: int,
                 prim_poly: int):
        self.name, self.n, self.k, self.m, self.t = name, n, k_bits, m, t
        self.generator, self.prim_poly = generator, prim_poly
        self.deg = generator.bit_length() - 1
        if self.deg != n - k_bits:
            raise ConfigError(f"{name}: deg g = {self.deg} but n - k = {n - k_bits}")
        self.exp, self.log = k.gf_tables(prim_poly, m)
        self.table, self.galigned = k.division_tables(generator, self.deg)
        self._check_roots()

    def __repr__(self) -> str:
        return f"BchCode({self.name}: n={self.n}, k={self.k}, t={self.t})"

    def _check_roots(self) -> None:
        """g(alpha^j) = 0 for j = 1..2t, i.e. the tables describe a t-error-correcting code."""
        nf = (1 << self.m) - 1
        for j in range(1, 2 * self.t + 1):
            acc = 0
            for i in range(self.deg + 1):
                if self.generator >> i & 1:
                    acc ^= int(self.exp[(i * j) % nf])
            if acc:
                raise ConfigError(f"{self.name}: alpha^{j} is not a root of g(x); "
                                  "the generator does not match the field")

    @staticmethod
    @cache
    def atsc3(n: int, rate: str) -> BchCode:
        """ATSC 3.0 outer BCH for LDPC length ``n`` (16200/64800) and code rate "2/15".."13/15"."""
        require_one_of("n", n, (16200, 64800))
        require_one_of("rate", rate, ATSC3_RATES)
        spec = load_json("atsc3", "bch.json")["lengths"][str(n)]
        per = spec["per_rate"][rate]
        return BchCode(f"ATSC3 BCH {n} {rate}", int(per["N_bch"]), int(per["K_bch"]),
                       int(spec["m"]), int(spec["t"]), _poly_int(spec["generator_polynomial_g"]),
                       _poly_int(spec["minimal_polynomials_g1_to_g12"][0]))

    @staticmethod
    @cache
    def dtmb() -> BchCode:
        """DTMB BCH(762,752): g(x) = 1 + x^3 + x^10, shortened from BCH(1023,1013)."""
        g = (1 << 10) | (1 << 3) | 1
        return BchCode("DTMB BCH(762,752)", 762, 752, 10, 1, g, g)

    def _batch(self, x: np.ndarray, length: int, what: str) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim not in (1, 2) or x.shape[-1] != length:
            raise ConfigError(f"{self.name}: {what} must have shape (batch, {length}) or "
                              f"({length},), not {x.shape}")
        return np.ascontiguousarray(np.atleast_2d(x), np.uint8)

    def encode(self, bits: np.ndarray) -> np.ndarray:
        """Message bits ``(batch, k)`` or ``(k,)`` -> codewords (message, then parity)."""
        single = np.ndim(bits) == 1
        out = k.encode_batch(self._batch(bits, self.k, "message"), self.table, self.galigned,
                             self.deg)
        return out[0] if single else out

    def decode(self, bits: np.ndarray, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Codewords ``(batch, n)`` -> (corrected message bits, errors corrected per block, -1
        where uncorrectable; such blocks are returned as received)."""
        single = np.ndim(bits) == 1
        words = self._batch(bits, self.n, "codeword").copy()

        def run(i: int) -> int:
            w = words[i].copy()
            c = k.decode_one(w, self.table, self.galigned, self.deg, self.t, self.exp, self.log,
                             self.m)
            if c > 0:
                words[i] = w
            return c

        counts = np.array(parallel_map(run, range(len(words)), workers), np.int32)
        msg = words[:, :self.k]
        return (msg[0], counts[0]) if single else (msg, counts)
