"""ATSC 3.0 tables (package data, see tables/README.md), each loaded once."""
from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np

from sdrcast.phy.tables import load_json

CONSTELLATIONS = ("QPSK", "16QAM", "64QAM", "256QAM", "1024QAM", "4096QAM")
RATES = tuple(f"{r}/15" for r in range(2, 14))
BITS_PER_CELL = {"QPSK": 2, "16QAM": 4, "64QAM": 6, "256QAM": 8, "1024QAM": 10, "4096QAM": 12}
# L1D_plp_ldm_injection_level code -> dB below the core layer
LDM_LEVELS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0) + tuple(float(x) for x in range(6, 26))


@cache
def _npz(name: str) -> dict[str, np.ndarray]:
    with resources.files("sdrcast.phy.atsc3").joinpath("tables", name).open("rb") as f:
        z = np.load(f)
        return {k: z[k] for k in z.files}


@cache
def constellation_points(constellation: str, rate: str) -> np.ndarray:
    """Unit-power points indexed by cell word (y0 = MSB): QPSK, or the NUC of that code rate
    (A/322 6.3, Annex C; labelling as gr-atsc3)."""
    z = _npz("constellations.npz")
    if constellation == "QPSK":
        pts = z["qpsk_full"]
    else:
        kind = "nuc1d" if constellation in ("1024QAM", "4096QAM") else "nuc2d"
        pts = z[f"{kind}_{constellation}_full"][RATES.index(rate)]
    return pts.astype(np.complex64)


def ldpc_spec(n: int, rate: str) -> dict:
    return load_json("atsc3", "ldpc_address_tables.json")["codes"][str(n)][rate]


def ofdm() -> dict:
    return load_json("atsc3", "ofdm_framing.json")
