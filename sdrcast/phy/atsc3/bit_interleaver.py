"""A/322 6.2 bit interleaving and cell demultiplexing: parity interleaver (Type B codes; Type A
codes permute inside the LDPC encoder), group-wise interleaver (groups of 360 bits,
Annex B permutations), block interleaver (Type A: column-wise write, row-wise read in two parts;
Type B: per block of N_QCB_IG groups), then cell words of eta bits, the first bit as the MSB.
The whole chain is one precomputed permutation (``bit_interleaver.json``)."""
from __future__ import annotations

from functools import cache

import numpy as np

from sdrcast.phy.atsc3.tables import BITS_PER_CELL, ldpc_spec
from sdrcast.phy.kernels.bits import gather_words
from sdrcast.phy.tables import load_json


@cache
def permutation(n: int, rate: str, constellation: str) -> np.ndarray:
    """``perm`` with output bit i = input (LDPC codeword) bit ``perm[i]``."""
    spec = ldpc_spec(n, rate)
    k = int(spec["K_ldpc"])
    tab = load_json("atsc3", "bit_interleaver.json")
    entry = tab["tables"][str(n)][constellation][rate]
    params = tab["block_interleaver_parameters"][str(n)][constellation]
    idx = np.arange(n, dtype=np.int64)
    if spec["type"] == "B":  # parity interleaver: u[K + 360 t + s] = lambda[K + Q s + t]
        q = int(spec["Q_ldpc"])
        t, s = np.divmod(np.arange(n - k), 360)
        idx[k:] = k + q * s + t
    groups = np.asarray(entry["group_permutation"], np.int64)
    idx = idx.reshape(-1, 360)[groups].reshape(-1)  # Y_j = X_pi(j)
    eta = BITS_PER_CELL[constellation]
    if entry["block_interleaver_type"] == "A":
        p = params["typeA"]
        nc, r1, r2 = p["N_c"], p["N_r1"], p["N_r2"]
        part1 = idx[:nc * r1].reshape(nc, r1).T.reshape(-1)  # written by column, read by row
        part2 = idx[nc * r1:].reshape(nc, r2).T.reshape(-1)
        idx = np.concatenate([part1, part2])
    else:
        p = params["typeB"]
        g, n1 = p["N_QCB_IG"], p["N_part1"]
        part1 = idx[:n1].reshape(-1, g, 360).transpose(0, 2, 1).reshape(-1)
        idx = np.concatenate([part1, idx[n1:]])
    assert idx.size == n and n % eta == 0
    idx.flags.writeable = False
    return idx


def cell_words(codewords: np.ndarray, n: int, rate: str, constellation: str) -> np.ndarray:
    """LDPC codewords (bits ``[b, n]`` uint8) -> cell words ``[b, n / eta]`` (uint16, y0 MSB)."""
    bits = np.ascontiguousarray(codewords, np.uint8).reshape(-1, n)
    return gather_words(bits, permutation(n, rate, constellation), BITS_PER_CELL[constellation])
