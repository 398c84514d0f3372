"""DTMB tables (package data, see tables/README.md), each loaded once."""
from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources

import numpy as np

from sdrcast.phy.tables import load_json

_BASE = resources.files("sdrcast.phy.dtmb").joinpath("tables")


@cache
def constellation_points(name: str) -> np.ndarray:
    """Unit-power points indexed by label = sum b_n 2^n (b0 = first bit into the mapper)."""
    mode = load_json("dtmb", "qam_constellations.json")["modes"][name]
    pts = np.array([complex(i, q) for i, q in mode["points_by_label"]]) / np.sqrt(mode["mean_power"])
    return pts.astype(np.complex64)


@cache
def nr_words() -> np.ndarray:
    """4QAM-NR: 256 input bytes -> 16 bits (x0..x7 y0..y7), shape (256, 16) uint8."""
    text = _BASE.joinpath("nr_mapping.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    out = np.zeros((256, 16), np.uint8)
    for r in rows:
        v = int(r["output_x0x7y0y7_hex"], 16)
        out[int(r["input_x0x7_hex"], 16)] = [(v >> (15 - i)) & 1 for i in range(16)]
    return out


@cache
def system_info_bits(index: int, carriers: int) -> np.ndarray:
    """The 36 SI bits: 4 body-mode bits then the 32-bit vector ``index``."""
    si = load_json("dtmb", "system_info.json")
    prefix = si["c3780_prefix_bits"] if carriers == 3780 else si["c1_prefix_bits"]
    return np.array([int(b) for b in prefix + si["vectors"][str(index)]], np.uint8)


@cache
def si_positions() -> np.ndarray:
    return np.array(load_json("dtmb", "system_info.json")["c3780_si_logical_positions"], np.int64)


@cache
def si_mask() -> np.ndarray:
    """True on the 36 C=3780 logical carriers that carry system information."""
    mask = np.zeros(3780, bool)
    mask[si_positions()] = True
    return mask


@cache
def freq_interleaver() -> np.ndarray:
    """Logical carrier -> IDFT bin for C=3780."""
    with _BASE.joinpath("freq_interleaver_c3780_logical_to_physical.npy").open("rb") as f:
        return np.load(f).astype(np.int64)


@cache
def pn_tables() -> dict:
    with _BASE.joinpath("pn_headers.npz").open("rb") as f:
        z = np.load(f)
        return {k: z[k] for k in z.files}
