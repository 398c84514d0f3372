"""LDPC codes of ATSC 3.0 (A/322 6.1.3) and DTMB (GB 20600-2006 4.3): encoder and decoders.

One ``LdpcCode`` holds the parity-check matrix in *codeword* column order (the order in which
the standard's LDPC output leaves the encoder), so encoding and decoding use the same matrix.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

from sdrcast.config import require_one_of, require_range
from sdrcast.errors import ConfigError
from sdrcast.phy.kernels import ldpc as k
from sdrcast.phy.parallel import parallel_map
from sdrcast.phy.tables import load_json

ATSC3_RATES = tuple(f"{i}/15" for i in range(2, 14))
DTMB_RATES = (0.4, 0.6, 0.8)
RETRY_ITERATIONS = 15  # float32 iterations for the frames int8 failed (decode(retry=True))


@dataclass
class LdpcReport:
    """Per-frame decoder outcome: iterations run and whether all checks hold."""

    iterations: np.ndarray
    parity_ok: np.ndarray
    retried: int = 0  # frames decoded again in float32 after int8 failed them

    def to_dict(self) -> dict:
        return {"iterations": self.iterations.tolist(), "parity_ok": self.parity_ok.tolist(),
                "retried": self.retried}


def _csr(rows: np.ndarray, cols: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    ptr = np.zeros(m + 1, np.int64)
    np.add.at(ptr, rows + 1, 1)
    return np.cumsum(ptr), cols.astype(np.int64)


class LdpcCode:
    """A binary LDPC code with its encoder and decoders.

    Attributes: ``n`` (transmitted bits), ``k`` (information bits), ``n_mother`` (columns of H),
    ``row_ptr``/``col_idx`` (H by check), ``tx_cols`` (mother column of each transmitted bit),
    ``info_cols`` (mother column of each information bit). Build with ``LdpcCode.atsc3(n, rate)``
    or ``LdpcCode.dtmb(rate)``; both are cached.
    """

    def __init__(self, name: str, n_mother: int, row_ptr: np.ndarray, col_idx: np.ndarray,
                 info_cols: np.ndarray, tx_cols: np.ndarray, encoder,
                 tuning: tuple[float, float] = (0.75, 3.0)):
        self.name = name
        self.alpha, self.int8_scale = tuning
        self.n_mother = n_mother
        self.row_ptr, self.col_idx = row_ptr, col_idx
        self.info_cols, self.tx_cols = info_cols, tx_cols
        self.n, self.k = tx_cols.size, info_cols.size
        self._encoder = encoder

    def __repr__(self) -> str:
        return f"LdpcCode({self.name}: n={self.n}, k={self.k}, edges={self.col_idx.size})"

    @property
    def rate(self) -> float:
        return self.k / self.n

    # construction -----------------------------------------------------------------------
    @staticmethod
    @cache
    def atsc3(n: int, rate: str) -> LdpcCode:
        """ATSC 3.0 code (A/322 6.1.3): ``n`` 16200 or 64800, ``rate`` "2/15" .. "13/15".

        Codeword order is the encoder output: information, then parity. Type B parity is in
        accumulator order (the bit interleaver's parity interleaving comes later); Type A
        parity is already permuted (c[K+360t+s] = p[Q1 s + t], c[K+M1+360t+s] = p[M1+Q2 s+t]).
        """
        require_one_of("n", n, (16200, 64800))
        require_one_of("rate", rate, ATSC3_RATES)
        spec = load_json("atsc3", "ldpc_address_tables.json")["codes"][str(n)][rate]
        K = int(spec["K_ldpc"])
        M = n - K
        rows_tab = spec["rows"]
        erows, ecols = [], []
        if spec["type"] == "B":
            q = int(spec["Q_ldpc"])
            for m0 in range(0, K, 360):
                for x in rows_tab[m0 // 360]:
                    erows.append((x + np.arange(360) * q) % M)
                    ecols.append(m0 + np.arange(360))
            pcol = K + np.arange(M)
            erows += [np.arange(M), np.arange(1, M)]
            ecols += [pcol, pcol[:-1]]
        else:
            m1, m2, q1, q2 = (int(spec[key]) for key in ("M1", "M2", "Q1", "Q2"))
            j = np.arange(M)
            first = j < m1
            s_idx = np.where(first, j // q1, (j - m1) // q2)
            t_idx = np.where(first, j % q1, (j - m1) % q2)
            pcol = np.where(first, K + 360 * t_idx + s_idx, K + m1 + 360 * t_idx + s_idx)
            s = np.arange(360)
            for m0 in range(0, K + m1, 360):
                for x in rows_tab[m0 // 360]:
                    r = (x + s * q1) % m1 if x < m1 else m1 + (x - m1 + s * q2) % m2
                    erows.append(r)
                    ecols.append(m0 + s)
            erows += [j, np.arange(1, m1)]
            ecols += [pcol, pcol[:m1 - 1]]
        row_ptr, col_idx = _csr(np.concatenate(erows), np.concatenate(ecols), M)
        pcol = np.ascontiguousarray(pcol, np.int64)
        info_cols = np.arange(K, dtype=np.int64)

        def encode(info):
            return k.encode_by_rows(info, info_cols, row_ptr, col_idx, pcol, n)

        return LdpcCode(f"ATSC3 {n} {rate}", n, row_ptr, col_idx, info_cols,
                        np.arange(n, dtype=np.int64), encode, _tuning("atsc3", f"{n} {rate}"))

    @staticmethod
    @cache
    def dtmb(rate: float) -> LdpcCode:
        """DTMB code (GB 20600-2006 4.3): ``rate`` 0.4, 0.6 or 0.8; 7493-bit mother code, the
        first 5 parity bits punctured, 7488 transmitted bits ``[p(5)… | m(0)…]``."""
        require_one_of("rate", rate, DTMB_RATES)
        spec = load_json("dtmb", "ldpc.json")
        code = spec["codes"][str(rate)]
        z = int(spec["circulant_size"])
        kb, cb = int(code["k_blocks"]), int(code["c_blocks"])
        n_mother = (kb + cb) * z
        h_rows = code["parity_check_rows"]
        erows, ecols = [], []
        i = np.arange(z)
        for R, blocks in enumerate(h_rows):
            for C, shift in blocks:
                erows.append(R * z + i)
                ecols.append(C * z + (i + shift) % z)
        row_ptr, col_idx = _csr(np.concatenate(erows), np.concatenate(ecols), cb * z)
        punct = code["punctured_parity_bits"]
        tx_cols = np.setdiff1d(np.arange(n_mother), punct).astype(np.int64)
        info_cols = np.arange(cb * z, n_mother, dtype=np.int64)
        rot = _dtmb_rotations(code["generator_circulant_first_rows_hex"], kb, cb, z)
        n_punct = len(punct)

        def encode(info):
            parity = k.encode_qc_generator(info, rot, kb, cb, z, rot.shape[-1] // cb)
            return np.concatenate([parity[:, n_punct:], info], axis=1)

        return LdpcCode(f"DTMB {rate}", n_mother, row_ptr, col_idx, info_cols, tx_cols, encode,
                        _tuning("dtmb", str(rate)))

    # use ----------------------------------------------------------------------------------
    def _batch(self, x: np.ndarray, length: int, what: str, dtype) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim not in (1, 2) or x.shape[-1] != length:
            raise ConfigError(f"{self.name}: {what} must have shape (batch, {length}) or "
                              f"({length},), not {x.shape}")
        return np.ascontiguousarray(np.atleast_2d(x), dtype)

    def encode(self, info: np.ndarray, workers: int = 1) -> np.ndarray:
        """Information bits ``(batch, k)`` or ``(k,)`` -> transmitted codeword bits; a batch is
        split over ``workers`` threads (the kernels release the GIL)."""
        single = np.ndim(info) == 1
        x = self._batch(info, self.k, "info", np.uint8)
        if workers > 1 and x.shape[0] > 1:
            parts = np.array_split(x, min(workers, x.shape[0]))
            out = np.concatenate(parallel_map(self._encoder, parts, workers))
        else:
            out = self._encoder(x)
        return out[0] if single else out

    def mother_llr(self, llr: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
        """Transmitted-order LLRs ``(batch, n)`` (or permuted by ``order``, as ``decode``
        takes them) -> mother-code LLRs ``(n_mother, batch)``, zero (erased) at punctured
        positions."""
        m = np.zeros((self.n_mother, llr.shape[0]), np.float32)
        m[self.tx_cols if order is None else self.tx_cols[order]] = llr.T
        return m

    def decode(self, llr: np.ndarray, iterations: int = 50, alpha: float | None = None,
               early_stop: bool = True, batch: int | None = None, workers: int = 1,
               precision: str = "float32", scale: float | None = None,
               order: np.ndarray | None = None, retry: bool = False) -> tuple[np.ndarray, LdpcReport]:
        """Layered normalised min-sum decoding.

        ``llr``: float32 ``(batch, n)`` or ``(n,)``, positive = 0. Shortened (known-zero) bits
        should carry a large positive LLR, punctured bits 0. ``alpha``: the min-sum
        normalisation, by default this code's tuned ``self.alpha``. ``precision`` "float32"
        or "int8" (fixed point: LLRs times ``scale``, by default the code's ``int8_scale``,
        saturated at +-127, alpha in 1/16 steps; several times faster). Frames are decoded
        ``batch`` at a time (inter-frame SIMD; default 16 for float32; int8 always takes
        ``Q8_LANES``, the last batch filled with zero codewords), spread over ``workers``
        threads. ``order``: the LLRs come permuted, ``llr[:, j]`` for codeword bit
        ``order[j]`` (a bit interleaver undone on the way in). ``retry``: frames int8 fails
        are decoded again in float32 (``LdpcReport.retried``; at most ``RETRY_ITERATIONS``).
        Returns the hard information bits and an ``LdpcReport``.
        """
        require_range("iterations", iterations, 1)
        alpha = self.alpha if alpha is None else alpha
        scale = self.int8_scale if scale is None else scale
        require_range("alpha", alpha, 0.0, 1.0)
        require_one_of("precision", precision, ("float32", "int8"))
        batch = k.Q8_LANES if precision == "int8" else batch or 16
        require_range("batch", batch, 1)
        single = np.ndim(llr) == 1
        x = self._batch(llr, self.n, "llr", np.float32)
        groups = [x[i:i + batch] for i in range(0, x.shape[0], batch)]
        if not groups:
            return np.zeros((0, self.k), np.uint8), LdpcReport(np.zeros(0, np.int64),
                                                               np.zeros(0, bool))

        cols = self.tx_cols if order is None else self.tx_cols[order]

        def run(g):
            if precision == "int8":
                q = k.quantise_q8(g, cols, np.float32(scale), self.n_mother, k.Q8_LANES)
                # the kernel truncates scaled magnitudes (floor), losing half a 1/16 step on
                # average: one more 1/16 makes int8 match float32 (measured, docs/performance.md)
                alpha16 = min(round(alpha * 16) + 1, 16)
                hard, its, ok = k.decode_layered_minsum_q8(q, self.row_ptr, self.col_idx,
                                                           iterations, alpha16, early_stop)
                hard, its, ok = hard[:, :g.shape[0]], its[:g.shape[0]], ok[:g.shape[0]]
            else:
                m = self.mother_llr(g, order)
                hard, its, ok = k.decode_layered_minsum(m, self.row_ptr, self.col_idx,
                                                        iterations, alpha, early_stop)
            return hard[self.info_cols].T, its, ok

        parts = parallel_map(run, groups, workers)
        bits = np.concatenate([p[0] for p in parts])
        report = LdpcReport(np.concatenate([p[1] for p in parts]),
                            np.concatenate([p[2] for p in parts]))
        failed = np.flatnonzero(~report.parity_ok)
        if precision == "int8" and retry and failed.size:
            # int8 messages cannot outvote a confidently wrong channel LLR (fading, Doppler):
            # the frames it fails get float32's dynamic range, for at most RETRY_ITERATIONS
            # (float32 is several times slower: frames that cannot decode cost a live receiver)
            b, r = self.decode(x[failed], min(iterations, RETRY_ITERATIONS), alpha=alpha,
                               early_stop=early_stop, workers=workers, order=order)
            bits[failed], report.parity_ok[failed] = b, r.parity_ok
            report.iterations[failed] += r.iterations
            report.retried = int(failed.size)
        return (bits[0] if single else bits), report

    def decode_spa(self, llr: np.ndarray, iterations: int = 50) -> tuple[np.ndarray, LdpcReport]:
        """Reference flooding sum-product decoder (float64), one frame at a time."""
        single = np.ndim(llr) == 1
        x = self._batch(llr, self.n, "llr", np.float32)
        var_ptr, var_edges = self._var_index
        out, its, oks = [], [], []
        for f in x:
            m = self.mother_llr(f[None])[:, 0].astype(np.float64)
            hard, it, ok = k.decode_flooding_spa(m, self.row_ptr, self.col_idx, var_ptr,
                                                 var_edges, iterations)
            out.append(hard[self.info_cols])
            its.append(it)
            oks.append(ok)
        bits = np.array(out, np.uint8)
        report = LdpcReport(np.array(its, np.int32), np.array(oks, bool))
        return (bits[0] if single else bits), report

    @cached_property
    def _var_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Edges by variable node (for the flooding decoder), built once."""
        order = np.argsort(self.col_idx, kind="stable")
        counts = np.bincount(self.col_idx, minlength=self.n_mother)
        return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64), order.astype(np.int64)

    def syndrome_ok(self, codeword: np.ndarray) -> np.ndarray:
        """True per frame when transmitted-order bits satisfy every check (punctured bits are
        re-derived only for codes without puncturing; DTMB needs the mother codeword)."""
        x = self._batch(codeword, self.n, "codeword", np.uint8)
        if self.n != self.n_mother:
            raise ConfigError(f"{self.name}: punctured code; check the mother codeword with "
                              "syndrome_ok_mother")
        return k.syndrome_ok(np.ascontiguousarray(x.T), self.row_ptr, self.col_idx)

    def syndrome_ok_mother(self, mother: np.ndarray) -> np.ndarray:
        x = self._batch(mother, self.n_mother, "mother codeword", np.uint8)
        return k.syndrome_ok(np.ascontiguousarray(x.T), self.row_ptr, self.col_idx)


def _tuning(std: str, key: str) -> tuple[float, float]:
    """(min-sum alpha, int8 LLR scale) measured for this code (``minsum_alpha.json``, made by
    tools/tune_minsum_alpha.py), else (0.75, 3.0)."""
    try:
        entry = load_json("fec", "minsum_alpha.json")[std][key]
    except (FileNotFoundError, KeyError):
        return 0.75, 3.0
    return float(entry["alpha"]), float(entry.get("int8_scale", 3.0))


def _dtmb_rotations(hex_rows, kb: int, cb: int, z: int) -> np.ndarray:
    """All z rotations of each generator circulant, packed in 64-bit words."""
    rows = hex_rows
    words = (z + 63) // 64
    rot = np.zeros((kb, z, cb * words), np.uint64)
    mask = (1 << z) - 1
    for i in range(kb):
        for j in range(cb):
            g = int(rows[i][j], 16)
            for r in range(z):
                v = ((g << r) | (g >> (z - r))) & mask  # row r = first row rotated right by r
                for w in range(words):
                    rot[i, r, j * words + w] = (v >> (64 * w)) & 0xFFFFFFFFFFFFFFFF
    return rot
