"""A/322 6.5 protection of L1-Basic and L1-Detail (``l1_fec_chain.json``, ``l1_signalling.json``).

Per L1 block of K_sig bits: scrambling (the baseband-scrambler sequence, restarted), BCH
(N = 16200 outer code, 168 parity bits, shortened), zero padding into K_ldpc along the mode's
shortening pattern, LDPC 16200 (rate 3/15 for L1-Basic and L1-Detail modes 1-2, rate 6/15
with parity interleaving for L1-Detail 3-7), parity group-wise interleaving, repetition (mode 1),
puncturing (Table 6.24), zero removal, bit interleaving with per-row rotation (modes 4-7),
mapping (QPSK; 16/64/256 NUC). L1-Basic mode 7 uses the standard's B = 12776 (gr-atsc3 has
12766). L1-Detail longer than the mode's K_seg is segmented (6.5.1): N = ceil(K_L1D / K_seg)
blocks of equal size after zero padding to a multiple of 8 N bits, each protected alone, their
cells one after the other (gr-atsc3 has only the single-block case, so this path has no
independent vector).
"""
from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np

from sdrcast.errors import ConfigError
from sdrcast.phy.atsc3.scrambler import sequence
from sdrcast.phy.atsc3.tables import constellation_points
from sdrcast.phy.fec import BchCode, LdpcCode
from sdrcast.phy.mapping import Constellation
from sdrcast.phy.tables import load_json

_NUC = {"QPSK": ("QPSK", "2/15"), "NUC_16_8/15": ("16QAM", "8/15"),
        "NUC_64_9/15": ("64QAM", "9/15"), "NUC_256_9/15": ("256QAM", "9/15"),
        "NUC_256_13/15": ("256QAM", "13/15")}


def _fec() -> dict:
    return load_json("atsc3", "l1_signalling.json")["fec"]


@cache
def _bch() -> BchCode:
    return BchCode.atsc3(16200, "6/15")  # the longest K: shorter blocks are zero-prefixed


@cache
def _ldpc(k_ldpc: int) -> LdpcCode:
    """16200-bit rate 3/15 (K 3240) or 6/15 (K 6480) code."""
    return LdpcCode.atsc3(16200, "3/15" if k_ldpc == 3240 else "6/15")


def _key(kind: str, mode: int) -> str:
    return "L1-Basic" if kind == "basic" else f"L1-Detail-{mode}"


def fec_params(kind: str, mode: int, k_sig: int) -> dict:
    """N_outer, K_ldpc, N_repeat, N_punc, N_FEC, eta and the cell count (A/322 6.5)."""
    f = _fec()
    if not 1 <= mode <= 7:
        raise ConfigError(f"L1 FEC mode={mode} is not allowed; allowed 1..7")
    key = _key(kind, mode)
    k_ldpc = f["L1B_Kldpc"] if kind == "basic" else f["L1D_Kldpc"][str(mode)]
    n_outer = k_sig + f["M_outer"]
    if n_outer > k_ldpc:
        raise ConfigError(f"L1 block of {k_sig} bits does not fit one FEC block in mode {mode} "
                          f"(K_ldpc {k_ldpc}); L1-Detail is segmented with segments()")
    n_parity = 16200 - k_ldpc
    eta = f["L1_basic_eta_mod"][str(mode)] if kind == "basic" else \
        {"QPSK": 2, "NUC_16_8/15": 4, "NUC_64_9/15": 6}.get(f["L1_CONFIG"][str(mode)][0], 8)
    rep = f["repetition_Table_6_23"].get(f"{key}-{mode}" if kind == "basic" else key)
    n_repeat = 0
    if rep is not None:
        n_repeat = 2 * int(Fraction(rep["C"]) * n_outer) + rep["D"]
        if n_repeat > n_parity:  # the tables allow K_sig up to K_seg, but not how to repeat more
            raise ConfigError(
                f"L1-Detail mode {mode}: a block of {k_sig} bits needs {n_repeat} repeated parity "
                f"bits, more than the {n_parity} LDPC parity bits, and the A/322 rule for that case "
                f"is not in the tables sdrcast is built from; use l1_detail_fec_mode 2..7, or "
                f"fewer PLPs (blocks up to {(n_parity - rep['D']) // 2 * 16 // 61 - 168} bits)")
    pun = f["puncturing_Table_6_24"][f"{key}-{mode}" if kind == "basic" else key]
    n_punc_temp = int(Fraction(pun["A"]) * (k_ldpc - n_outer)) + pun["B"]
    n_fec_temp = n_outer + n_parity - n_punc_temp
    n_fec = -(-n_fec_temp // eta) * eta
    n_punc = n_punc_temp - (n_fec - n_fec_temp)
    return {"n_outer": n_outer, "k_ldpc": k_ldpc, "n_parity": n_parity, "n_repeat": n_repeat,
            "n_punc": n_punc, "n_fec": n_fec, "eta": eta, "cells": (n_fec + n_repeat) // eta}


def segments(k_l1d: int, mode: int) -> tuple[int, int]:
    """L1-Detail of ``k_l1d`` bits -> (N blocks, K_sig bits per block) (A/322 6.5.1)."""
    n = -(-k_l1d // _fec()["L1D_Kseg"][str(mode)])
    return n, -(-k_l1d // (8 * n)) * 8


def cell_count(kind: str, mode: int, k: int) -> int:
    """Cells of L1-Basic or of the (segmented) L1-Detail of ``k`` bits."""
    if kind == "basic":
        return fec_params(kind, mode, k)["cells"]
    n, k_sig = segments(k, mode)
    return n * fec_params(kind, mode, k_sig)["cells"]


def _blocks(bits: np.ndarray, kind: str, mode: int) -> np.ndarray:
    """The L1 bits as rows of FEC blocks (L1-Detail zero-padded and segmented)."""
    if kind == "basic":
        return bits[None, :]
    n, k_sig = segments(bits.size, mode)
    return np.concatenate([bits, np.zeros(n * k_sig - bits.size, np.uint8)]).reshape(n, k_sig)


def encode(bits: np.ndarray, kind: str, mode: int) -> np.ndarray:
    """L1-Basic or L1-Detail (``kind`` "basic" or "detail", bits incl. CRC) -> mapped cells."""
    bits = np.asarray(bits, np.uint8).reshape(-1)
    return np.concatenate([_encode_block(b, kind, mode) for b in _blocks(bits, kind, mode)])


@cache
def _structure(kind: str, mode: int, k_sig: int) -> tuple[np.ndarray, np.ndarray]:
    """(shortening mask over K_ldpc, order of the transmitted parity bits in the encoder's
    parity) of one L1 block (steps 5, 7 and 8)."""
    f = _fec()
    p = fec_params(kind, mode, k_sig)
    key = _key(kind, mode)
    k_ldpc = p["k_ldpc"]
    pattern = f["shortening_pattern"][key]
    pad = k_ldpc - p["n_outer"]
    n_pad = pad // 360
    zero = np.zeros(k_ldpc, bool)
    for g in pattern[:n_pad]:
        zero[360 * g:360 * (g + 1)] = True
    if n_pad < len(pattern):
        g = pattern[n_pad]
        zero[360 * g:360 * g + pad - 360 * n_pad] = True
    order = np.arange(p["n_parity"])
    if k_ldpc == 6480:  # rate 6/15: parity interleaving u[360 t + s] = c[27 s + t]
        t, s_ = np.divmod(order, 360)
        order = 27 * s_ + t
    groups = np.asarray(f["parity_groupwise_pattern"][key]) - k_ldpc // 360
    order = order.reshape(-1, 360)[groups].reshape(-1)
    zero.flags.writeable = order.flags.writeable = False
    return zero, order


def _points(mode: int) -> np.ndarray:
    return constellation_points(*_NUC[_fec()["L1_CONFIG"][str(mode)][0]])


def _encode_block(bits: np.ndarray, kind: str, mode: int) -> np.ndarray:
    """One L1 FEC block of K_sig bits -> mapped cells."""
    p = fec_params(kind, mode, bits.size)
    zero, order = _structure(kind, mode, bits.size)
    # 3. scrambling, 4. BCH
    scr = bits ^ np.unpackbits(sequence(-(-bits.size // 8)))[:bits.size]
    bch = _bch()
    msg = np.concatenate([np.zeros(bch.k - bits.size, np.uint8), scr])
    outer = np.concatenate([scr, bch.encode(msg[None, :])[0, bch.k:]])
    # 5. zero padding along the shortening pattern, 6. LDPC, 7.-8. parity interleaving
    info = np.zeros(p["k_ldpc"], np.uint8)
    info[~zero] = outer
    parity = _ldpc(p["k_ldpc"]).encode(info[None, :])[0, p["k_ldpc"]:][order]
    # 9. repetition, 10. puncturing, 11. zero removal
    fec = np.concatenate([outer, parity[:p["n_repeat"]], parity[:p["n_parity"] - p["n_punc"]]])
    # 12. bit interleaving (column-wise write, row-wise read, rows rotated for modes 4-7)
    eta = p["eta"]
    words = fec.reshape(eta, -1).T
    if eta > 2:
        rows = np.arange(words.shape[0])[:, None]
        words = words[rows, (np.arange(eta)[None, :] + rows) % eta]
    labels = (words.astype(np.int64) << np.arange(eta - 1, -1, -1)).sum(axis=1)
    return _points(mode)[labels]  # 13. mapping


def decode(cells: np.ndarray, kind: str, mode: int, k: int, noise_var: float | np.ndarray = 0.01,
           iterations: int = 50) -> tuple[np.ndarray, bool]:
    """Received L1-Basic or L1-Detail cells (``k`` signalled bits) -> (bits, every block's BCH
    decoding succeeded): max-log demapping with ``noise_var`` (per cell or one value), bit
    deinterleaving, repeated parity combined, punctured parity erased, shortened bits known,
    LDPC, BCH, descrambling. LDPC is the sum-product decoder: with up to 95 % of the parity
    punctured, normalised min-sum at the data codes' normalisation loses up to 10 dB here."""
    n, k_sig = (1, k) if kind == "basic" else segments(k, mode)
    p = fec_params(kind, mode, k_sig)
    per = p["cells"]
    cells = np.asarray(cells, np.complex64)
    if cells.size < n * per:
        raise ConfigError(f"L1-{kind}: {cells.size} cells, {n * per} needed for {k} bits in mode {mode}")
    nv = np.broadcast_to(np.asarray(noise_var, np.float64), cells.shape)
    zero, order = _structure(kind, mode, k_sig)
    eta, n_outer, n_rep = p["eta"], p["n_outer"], p["n_repeat"]
    pts = Constellation(_points(mode))
    out, ok = [], True
    for b in range(n):
        llr = pts.demap(cells[b * per:(b + 1) * per], nv[b * per:(b + 1) * per]).reshape(-1, eta)
        if eta > 2:  # undo the row rotation
            rows = np.arange(llr.shape[0])[:, None]
            unrot = np.empty_like(llr)
            unrot[rows, (np.arange(eta)[None, :] + rows) % eta] = llr
            llr = unrot
        fec = llr.T.reshape(-1)
        tx_parity = np.zeros(p["n_parity"], np.float32)  # punctured: erased
        kept = fec[n_outer + n_rep:]
        tx_parity[:kept.size] = kept
        tx_parity[:n_rep] += fec[n_outer:n_outer + n_rep]
        parity = np.empty_like(tx_parity)
        parity[order] = tx_parity
        info = np.full(p["k_ldpc"], 64.0, np.float32)  # shortened: known zeros
        info[~zero] = fec[:n_outer]
        bits, _ = _ldpc(p["k_ldpc"]).decode_spa(np.concatenate([info, parity]), iterations)
        outer = bits[~zero]
        bch = _bch()
        word = np.concatenate([np.zeros(bch.k - k_sig, np.uint8), outer[:k_sig], outer[k_sig:]])
        msg, corrected = bch.decode(word)
        ok = ok and corrected >= 0  # (checks on punctured parity never settle in modes 6-7)
        scr = msg[bch.k - k_sig:]
        out.append(scr ^ np.unpackbits(sequence(-(-k_sig // 8)))[:k_sig])
    return np.concatenate(out)[:k], ok
