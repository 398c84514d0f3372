"""FeMBMS tables (package data, see tables/README.md), each loaded once."""
from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np

from sdrcast.phy.mapping import Constellation
from sdrcast.phy.tables import load_json

_BASE = resources.files("sdrcast.phy.fembms").joinpath("tables")


@cache
def npz(name: str) -> dict[str, np.ndarray]:
    with _BASE.joinpath(name).open("rb") as f:
        data = np.load(f)
        return {k: data[k] for k in data.files}


@cache
def constellation(qm: int) -> Constellation:
    """36.211 7.1 QPSK/16/64/256QAM, labels b(0)..b(Qm-1) MSB first, unit power."""
    name = {2: "QPSK", 4: "16QAM", 6: "64QAM", 8: "256QAM"}[qm]
    return Constellation(npz("constellations_36211_7_1.npz")[name], name)


@cache
def tbs_table() -> np.ndarray:
    """36.213 Table 7.1.7.2.1-1: TBS [I_TBS 0..33][N_PRB 1..110]."""
    with _BASE.joinpath("tbs_table_36213_t7172_1_1.npy").open("rb") as f:
        return np.load(f)


def json_table(name: str) -> dict:
    return load_json("fembms", name)
