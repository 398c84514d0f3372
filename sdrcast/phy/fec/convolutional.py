"""The LTE tail-biting convolutional code (3GPP TS 36.212 5.1.3.1), used by BCH (MIB-MBMS)
and DCI: ``ConvCode.lte().encode(c) -> d[3, K]``, ``.decode(llr[3, K]) -> bits``."""
from __future__ import annotations

from functools import cache

import numpy as np

from sdrcast.phy.kernels import convolutional as k
from sdrcast.phy.tables import load_json


def _reverse7(v: int) -> int:
    return int(f"{v:07b}"[::-1], 2)


class ConvCode:
    """A tail-biting convolutional code of constraint length 7 with octal ``generators``."""

    def __init__(self, generators: tuple[int, ...]):
        self.generators = generators
        self.masks = np.array([_reverse7(g) for g in generators], np.int64)

    @staticmethod
    @cache
    def lte() -> ConvCode:
        gens = load_json("fec", "lte_coding_36212.json")["tail_biting_convolutional_36212_5_1_3_1"]
        return ConvCode(tuple(int(g, 8) for g in gens["generators_octal"]))

    def encode(self, bits: np.ndarray) -> np.ndarray:
        return k.encode(np.ascontiguousarray(bits, np.uint8), self.masks)

    def decode(self, llr: np.ndarray) -> np.ndarray:
        return k.decode(np.ascontiguousarray(llr, np.float32), self.masks)
