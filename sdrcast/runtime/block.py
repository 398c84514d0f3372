"""Chunks, tags and the Block contract.

A *chunk* is a 1-D numpy array (samples, bits or bytes) plus stream tags. A *tag* marks one item of
the chunk (``offset`` counts from the chunk's first item) with a key and a value, like GNU Radio's
stream tags; frame-level metadata (``frame_start``, ``plp_id``, ``snr_db``...) is a tag at offset 0.

A *block* turns an iterator of chunks into an iterator of chunks (``process``), so it runs alone
(``run_block``) or inside a ``Flowgraph`` thread. Between chunks a block may call ``poll()`` to
handle control messages posted to its inbox.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from sdrcast.errors import ConfigError


@dataclass(frozen=True)
class Tag:
    """A stream tag: ``key``/``value`` attached to item ``offset`` of its chunk."""

    offset: int
    key: str
    value: Any

    def moved(self, delta: int) -> Tag:
        return Tag(self.offset + delta, self.key, self.value)


class Chunk:
    """A 1-D array of items with stream tags."""

    __slots__ = ("data", "tags")

    def __init__(self, data: np.ndarray, tags: Iterable[Tag] = ()):
        self.data = data
        self.tags = tuple(tags)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"Chunk({len(self.data)} x {self.data.dtype}, tags={list(self.tags)})"

    def tag(self, key: str, default: Any = None) -> Any:
        """Value of the first tag named ``key``, or ``default``."""
        for t in self.tags:
            if t.key == key:
                return t.value
        return default

    def slice(self, start: int, stop: int) -> Chunk:
        """Items ``start:stop`` with the tags that fall inside, re-based."""
        return Chunk(self.data[start:stop],
                     [t.moved(-start) for t in self.tags if start <= t.offset < stop])

    @staticmethod
    def concat(chunks: list[Chunk]) -> Chunk:
        """One chunk holding ``chunks`` back to back, tags re-based."""
        if len(chunks) == 1:
            return chunks[0]
        tags, pos = [], 0
        for c in chunks:
            tags.extend(t.moved(pos) for t in c.tags)
            pos += len(c)
        return Chunk(np.concatenate([c.data for c in chunks]), tags)


class Counters(dict):
    """Named event counters of a block (drops, overflows, errors...)."""

    def add(self, name: str, n: int = 1) -> None:
        self[name] = self.get(name, 0) + n


class Block:
    """Base class: a generator transform over chunks.

    Subclasses implement ``process(chunks) -> Iterator[Chunk]``. ``sample_rate`` is the rate of
    the block's *output* items in Hz when it is a sample stream (used for the x-real-time figure).
    """

    sample_rate: float | None = None
    tick_s: float | None = None  # when set, the flowgraph feeds an empty chunk after this idle time

    def __init__(self, name: str | None = None, sample_rate: float | None = None):
        self.name = name or type(self).__name__
        if sample_rate is not None:
            self.sample_rate = float(sample_rate)
        self.counters = Counters()
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()

    def process(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        raise NotImplementedError

    # control -------------------------------------------------------------------------------
    def post(self, message: Any) -> None:
        """Queue a control message; the block handles it at its next ``poll()``."""
        self._inbox.put(message)

    def poll(self) -> None:
        """Handle every queued control message (call between chunks)."""
        while True:
            try:
                msg = self._inbox.get_nowait()
            except queue.Empty:
                return
            self.handle_message(msg)

    def handle_message(self, message: Any) -> None:
        """Act on one control message; the default counts it as unhandled."""
        self.counters.add("unhandled_messages")

    @property
    def stopping(self) -> bool:
        """True once the flowgraph asked every block to stop (sources must check it)."""
        return self._stop.is_set()

    def close(self) -> None:
        """Release devices/sockets/files; called on every exit path. Idempotent."""

    def __enter__(self) -> Block:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def stats(self) -> dict:
        """Block-specific figures for the JSON stats (counters by default)."""
        return dict(self.counters)


class Source(Block):
    """A block with no input: implement ``generate()``; it should return when ``stopping``."""

    def generate(self) -> Iterator[Chunk]:
        raise NotImplementedError

    def process(self, chunks: Iterator[Chunk] | None = None) -> Iterator[Chunk]:
        return self.generate()


class Sink(Block):
    """A block with no output: implement ``consume(chunk)`` and optionally ``finish()``."""

    def consume(self, chunk: Chunk) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Called once at end of stream (not on errors or stop)."""

    def process(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        for chunk in chunks:
            self.poll()
            self.consume(chunk)
        self.finish()
        yield from ()


class VectorSource(Source):
    """Emit an array in chunks of ``chunk_size`` items (optionally ``repeat`` times)."""

    def __init__(self, data: np.ndarray, chunk_size: int = 65536, repeat: int = 1,
                 name: str | None = None, sample_rate: float | None = None):
        super().__init__(name, sample_rate)
        self.data, self.chunk_size, self.repeat = np.asarray(data), int(chunk_size), repeat

    def generate(self) -> Iterator[Chunk]:
        for _ in range(self.repeat):
            for i in range(0, len(self.data), self.chunk_size):
                if self.stopping:
                    return
                yield Chunk(self.data[i:i + self.chunk_size])


class Head(Block):
    """Pass the first ``n`` items, then end the stream (GNU Radio's head block)."""

    def __init__(self, n: int, name: str | None = None):
        super().__init__(name or "head")
        self.n = int(n)

    def process(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        left = self.n
        if left <= 0:
            return
        for c in chunks:
            if len(c) >= left:
                yield c.slice(0, left)
                return
            left -= len(c)
            yield c


class Throttle(Block):
    """Pass items at ``rate`` items per second by the wall clock (GNU Radio's throttle): for
    feeding a file to a live consumer. Chunks are split so that none waits longer than
    ``max_wait_s``."""

    def __init__(self, rate: float, max_wait_s: float = 0.05, clock=time.monotonic,
                 sleep=time.sleep, name: str | None = None):
        super().__init__(name or "throttle", rate)
        if not rate > 0:
            raise ConfigError(f"throttle rate={rate:g}: must be > 0 items/s")
        self.rate, self.step = float(rate), max(1, int(rate * max_wait_s))
        self.clock, self.sleep = clock, sleep

    def process(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        t0, sent = None, 0
        for c in chunks:
            for i in range(0, len(c), self.step):
                piece = c.slice(i, i + self.step)
                t0 = self.clock() if t0 is None else t0
                wait = t0 + sent / self.rate - self.clock()
                if wait > 0:
                    self.sleep(wait)
                sent += len(piece)
                yield piece


class Label(Block):
    """Tag every chunk at offset 0 with ``key`` = ``value`` (to tell fan-in inputs apart)."""

    def __init__(self, key: str, value: Any, name: str | None = None):
        super().__init__(name or f"label_{key}_{value}")
        self.key, self.value = key, value

    def process(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        for c in chunks:
            yield Chunk(c.data, (Tag(0, self.key, self.value), *c.tags))


class VectorSink(Sink):
    """Keep every chunk received; ``result()`` joins them (tags at absolute offsets)."""

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self.chunks: list[Chunk] = []

    def consume(self, chunk: Chunk) -> None:
        self.chunks.append(chunk)

    def result(self) -> Chunk:
        return Chunk.concat(self.chunks) if self.chunks else Chunk(np.zeros(0))


def run_block(block: Block, chunks: Iterable[Chunk | np.ndarray] = ()) -> list[Chunk]:
    """Run ``block`` without a flowgraph; arrays are wrapped as untagged chunks."""
    wrapped = (c if isinstance(c, Chunk) else Chunk(np.asarray(c)) for c in chunks)
    try:
        return list(block.process(iter(wrapped)))
    finally:
        block.close()
