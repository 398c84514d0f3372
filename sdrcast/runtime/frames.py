"""Stream <-> frame adaptation, so stages see whole frames and sinks see streams."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from sdrcast.config import require_one_of
from sdrcast.errors import ConfigError
from sdrcast.runtime.block import Block, Chunk, Tag

TAILS = ("drop", "pad", "emit")


class FrameAdapter(Block):
    """Cut a stream of chunks into frames of ``frame_len`` items, carrying tags.

    ``frame_len`` is an int, or a callable returning the length of the next frame (variable-size
    frames, e.g. chosen by a receiver's state). At end of stream a partial frame is dropped and
    counted (``tail="drop"``, counter ``tail_items_dropped``), zero-padded (``"pad"``) or emitted
    short (``"emit"``). Used the other way round it re-chunks frames into a stream of fixed chunks.
    """

    def __init__(self, frame_len: int | Callable[[], int], tail: str = "drop",
                 name: str | None = None, sample_rate: float | None = None):
        super().__init__(name, sample_rate)
        require_one_of("tail", tail, TAILS)
        if not callable(frame_len) and int(frame_len) < 1:
            raise ConfigError(f"frame_len={frame_len!r} must be a positive integer")
        self._frame_len = frame_len
        self.tail = tail

    def next_len(self) -> int:
        n = self._frame_len() if callable(self._frame_len) else self._frame_len
        if n < 1:
            raise ConfigError(f"{self.name}: frame length {n} must be positive")
        return int(n)

    def process(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        pending: list[Chunk] = []
        have = 0
        need = self.next_len()
        for chunk in chunks:
            self.poll()
            if len(chunk) == 0:
                continue
            pending.append(chunk)
            have += len(chunk)
            if have < need:
                continue
            joined = Chunk.concat(pending)
            pos = 0
            while have - pos >= need:
                yield joined.slice(pos, pos + need)
                pos += need
                need = self.next_len()
            rest = joined.slice(pos, len(joined))
            pending, have = ([rest], len(rest)) if len(rest) else ([], 0)
        if have:
            rest = Chunk.concat(pending)
            if self.tail == "emit":
                yield rest
            elif self.tail == "pad":
                pad = np.zeros(need - have, dtype=rest.data.dtype)
                yield Chunk(np.concatenate([rest.data, pad]), rest.tags)
                self.counters.add("tail_items_padded", need - have)
            else:
                self.counters.add("tail_items_dropped", have)


class FrameBlock(Block):
    """Apply ``fn(frame) -> array`` to each frame: the thin adapter that puts a stage in a graph.

    With ``frame_len`` the input stream is first cut into frames (``FrameAdapter`` semantics and
    ``tail`` policy); without it ``fn`` sees chunks as they come. Tags are carried to the output,
    their offsets scaled by the frame's output/input length ratio.
    """

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray],
                 frame_len: int | Callable[[], int] | None = None, tail: str = "drop",
                 name: str | None = None, sample_rate: float | None = None):
        super().__init__(name or getattr(fn, "__name__", None), sample_rate)
        self.fn = fn
        self.framer = FrameAdapter(frame_len, tail, self.name) if frame_len is not None else None

    def process(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        frames = self.framer.process(chunks) if self.framer else chunks
        for frame in frames:
            self.poll()
            out = np.asarray(self.fn(frame.data))
            n_in = max(len(frame), 1)
            tags = [Tag(t.offset * len(out) // n_in, t.key, t.value) for t in frame.tags]
            yield Chunk(out, tags)
        if self.framer:
            self.counters.update(self.framer.counters)
