"""Flowgraph: one thread per block, bounded queues between them.

* backpressure: a full queue blocks its producer, so memory stays bounded by
  ``queue_depth`` chunks per edge whatever the speed of the consumer;
* end of stream flows downstream when a block's ``process`` returns; a block fed by several
  chains (fan-in: their chunks interleave in arrival order) ends when all of them have ended;
* the first exception in any block stops every block and is re-raised from ``run()`` as
  ``FlowgraphError`` naming the block (original exception chained);
* Ctrl-C (KeyboardInterrupt in the thread calling ``run``) stops all blocks and joins every thread;
* per-block counters, a periodic status line and JSON stats at the end.
"""
from __future__ import annotations

import json
import queue
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

import numpy as np

from sdrcast.errors import FlowgraphError, SdrcastError
from sdrcast.runtime.block import Block, Chunk, Source
from sdrcast.runtime.stats import PortCounter, RateClock, StatusPrinter, format_rate

_EOS = object()
_POLL_S = 0.05


class _Stopped(Exception):
    """Raised inside a block's input iterator when the graph is stopping."""


class _Node:
    def __init__(self, block: Block):
        self.block = block
        self.upstreams: list[_Node] = []
        self.inbox: queue.Queue | None = None
        self.outputs: list[queue.Queue] = []
        self.items_in = PortCounter()
        self.items_out = PortCounter()
        self.thread: threading.Thread | None = None
        self.done = False


class Flowgraph:
    """Blocks connected in chains; a block may feed several others (fan-out, each gets every
    chunk) and be fed by several (fan-in, chunks interleaved; tag them upstream, e.g. with
    ``Label``, when the origin matters)."""

    def __init__(self, queue_depth: int = 8, status_interval: float | None = None,
                 status_stream: IO[str] | None = None):
        if queue_depth < 1:
            raise SdrcastError(f"queue_depth={queue_depth} must be >= 1")
        self.queue_depth = queue_depth
        self.status_interval = status_interval
        self.status_stream = status_stream or sys.stderr
        self._nodes: dict[int, _Node] = {}
        self._order: list[_Node] = []
        self._stop = threading.Event()
        self._errors: list[tuple[str, BaseException]] = []
        self._clock: RateClock | None = None
        self.interrupted = False

    # building ---------------------------------------------------------------------------
    def _node(self, block: Block) -> _Node:
        if id(block) not in self._nodes:
            if any(n.block.name == block.name for n in self._order):
                raise SdrcastError(f"two blocks are named {block.name!r}; give them distinct names")
            node = _Node(block)
            self._nodes[id(block)] = node
            self._order.append(node)
        return self._nodes[id(block)]

    def connect(self, *blocks: Block) -> Flowgraph:
        """Connect ``blocks`` in a chain: ``connect(src, a, b, sink)``."""
        nodes = [self._node(b) for b in blocks]
        for up, down in zip(nodes, nodes[1:], strict=False):
            if up in down.upstreams:
                continue
            if isinstance(down.block, Source):
                raise SdrcastError(f"block {down.block.name!r} is a source: it takes no input")
            down.upstreams.append(up)
            if down.inbox is None:
                down.inbox = queue.Queue(self.queue_depth)
            up.outputs.append(down.inbox)
        return self

    def block(self, name: str) -> Block:
        for n in self._order:
            if n.block.name == name:
                return n.block
        raise SdrcastError(f"no block named {name!r}; blocks: {[n.block.name for n in self._order]}")

    def post(self, name: str, message: Any) -> None:
        """Send a control message to the block named ``name``."""
        self.block(name).post(message)

    # running ----------------------------------------------------------------------------
    def start(self) -> None:
        if not self._order:
            raise SdrcastError("the flowgraph has no blocks")
        self._clock = RateClock()
        for node in self._order:
            node.block._stop = self._stop
            node.thread = threading.Thread(target=self._run_node, args=(node,),
                                           name=f"sdrcast-{node.block.name}", daemon=True)
        for node in self._order:
            node.thread.start()

    def stop(self) -> None:
        """Ask every block to stop (non-blocking)."""
        self._stop.set()

    def wait(self) -> None:
        """Join every block thread; re-raise the first block error."""
        try:
            for node in self._order:
                while node.thread.is_alive():
                    node.thread.join(_POLL_S)
        except KeyboardInterrupt:
            self.interrupted = True
            self.stop()
            for node in self._order:
                node.thread.join()
        if self._errors:
            name, exc = self._errors[0]
            if isinstance(exc, SdrcastError):
                raise FlowgraphError(f"block {name!r}: {exc}") from exc
            raise FlowgraphError(f"block {name!r} failed: {type(exc).__name__}: {exc}") from exc

    def run(self) -> dict:
        """Start, wait for end of stream (or Ctrl-C), return the stats dict."""
        status = None
        if self.status_interval:
            status = StatusPrinter(self.status_line, self.status_stream, self.status_interval)
        self.start()
        if status:
            status.start()
        try:
            self.wait()
        finally:
            if status:
                status.stop()
        return self.stats()

    def _run_node(self, node: _Node) -> None:
        block = node.block
        gen = None
        try:
            inputs = self._inputs(node) if node.upstreams else iter(())
            gen = block.process(inputs)
            for chunk in gen:
                node.items_out.add(len(chunk))
                for q in node.outputs:
                    self._put(q, chunk)
                if self._stop.is_set():
                    break
            else:
                for q in node.outputs:
                    self._put(q, _EOS)
        except _Stopped:
            pass
        except BaseException as exc:  # noqa: BLE001 - reported with the block's name
            self._errors.append((block.name, exc))
            self._stop.set()
        finally:
            if gen is not None:
                try:
                    gen.close()
                except BaseException as exc:  # noqa: BLE001
                    self._errors.append((block.name, exc))
            try:
                block.close()
            except BaseException as exc:  # noqa: BLE001
                self._errors.append((block.name, exc))
                self._stop.set()
            node.done = True
            if all(n.done for n in self._order if not n.outputs):
                self._stop.set()  # every sink has finished: nothing upstream is needed any more

    def _inputs(self, node: _Node) -> Iterator[Chunk]:
        tick = node.block.tick_s
        last = time.monotonic()
        open_inputs = len(node.upstreams)
        while True:
            try:
                item = node.inbox.get(timeout=min(_POLL_S, tick or _POLL_S))
            except queue.Empty:
                if self._stop.is_set():
                    raise _Stopped from None
                if tick and time.monotonic() - last >= tick:  # idle: let the block act on time
                    last = time.monotonic()
                    yield Chunk(np.zeros(0, np.uint8))
                continue
            if item is _EOS:
                open_inputs -= 1
                if open_inputs == 0:
                    return
                continue
            node.items_in.add(len(item))
            last = time.monotonic()
            yield item

    def _put(self, q: queue.Queue, item: object) -> None:
        while True:
            try:
                q.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                if self._stop.is_set():
                    raise _Stopped from None

    # reporting --------------------------------------------------------------------------
    def stats(self) -> dict:
        """Per-block items, chunks, rates, x real time and counters (JSON-serialisable)."""
        elapsed = self._clock.elapsed() if self._clock else 0.0
        blocks = {}
        for node in self._order:
            b = node.block
            port = node.items_in if node.upstreams and not node.outputs else node.items_out
            rate = port.items / elapsed if elapsed > 0 else 0.0
            entry = {"items_in": node.items_in.items, "chunks_in": node.items_in.chunks,
                     "items_out": node.items_out.items, "chunks_out": node.items_out.chunks,
                     "items_per_s": rate, "counters": b.stats()}
            if b.sample_rate:
                entry["sample_rate"] = b.sample_rate
                entry["x_real_time"] = rate / b.sample_rate
            blocks[b.name] = entry
        return {"elapsed_s": elapsed, "interrupted": self.interrupted, "blocks": blocks}

    def stats_json(self) -> str:
        return json.dumps(self.stats(), indent=2, default=str)

    def status_line(self) -> str:
        parts = []
        for node in self._order:
            b = node.block
            port = node.items_in if node.upstreams and not node.outputs else node.items_out
            r = self._clock.rate(b.name, port.items)
            s = f"{b.name} {format_rate(r)}"
            if b.sample_rate:
                s += f" ({r / b.sample_rate:.2f}x rt)"
            bad = {k: v for k, v in b.counters.items() if v}
            if bad:
                s += " " + " ".join(f"{k}={v}" for k, v in bad.items())
            parts.append(s)
        return f"[sdrcast {self._clock.elapsed():6.1f}s] " + " | ".join(parts)
