"""The thin block every transmitter runs in: a ``phy.contracts.Transmitter`` behind it, its
output scaled to the programs' level and tagged ``frame_start`` at each frame. Each
standard's block says how payload reaches its transmitter, where its frames start, and
flushes the transmitter at the end of input."""
from __future__ import annotations

import numpy as np

from sdrcast.flowgraphs.common import level_scale
from sdrcast.phy.contracts import Transmitter
from sdrcast.runtime import Block, Chunk, Tag


class TxBlock(Block):
    """``emit(iq, starts, numbers)``: ``iq`` scaled to ``level_dbfs`` RMS (None: as the
    transmitter makes it), a ``frame_start`` tag (value: the frame's number) at each of
    ``starts`` that falls inside it."""

    def __init__(self, tx: Transmitter, name: str, level_dbfs: float | None = None):
        super().__init__(name, tx.sample_rate)
        self.tx = tx
        self.scale = level_scale(level_dbfs, tx.nominal_power)

    def emit(self, iq: np.ndarray, starts, numbers) -> Chunk:
        if self.scale is not None:
            iq = iq * np.float32(self.scale)
        return Chunk(iq, [Tag(int(a), "frame_start", int(v))
                          for a, v in zip(starts, numbers, strict=True) if 0 <= a < iq.size])
