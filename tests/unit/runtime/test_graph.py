import _thread
import io
import json
import threading
import time

import numpy as np
import pytest

from sdrcast.errors import FlowgraphError
from sdrcast.runtime import (
    Block,
    Chunk,
    Flowgraph,
    FrameBlock,
    Label,
    Sink,
    Source,
    VectorSink,
    VectorSource,
)


def _sdrcast_threads():
    return [t for t in threading.enumerate() if t.name.startswith("sdrcast-")]


def test_chain_delivers_everything_in_order_with_fan_out():
    data = np.arange(100_000, dtype=np.int64)
    a, b = VectorSink("a"), VectorSink("b")
    src = VectorSource(data, 777, name="src")
    dbl = FrameBlock(lambda x: x * 2, name="double")
    g = Flowgraph(queue_depth=2)
    g.connect(src, dbl, a)
    g.connect(dbl, b)
    stats = g.run()
    np.testing.assert_array_equal(a.result().data, data * 2)
    np.testing.assert_array_equal(b.result().data, data * 2)
    assert stats["blocks"]["double"]["items_in"] == data.size
    assert stats["blocks"]["double"]["items_out"] == data.size
    json.dumps(stats)
    assert not _sdrcast_threads()


def test_slow_sink_keeps_memory_bounded():
    produced = []
    in_flight_max = [0]

    class Counting(Source):
        def generate(self):
            for i in range(300):
                if self.stopping:
                    return
                produced.append(i)
                yield Chunk(np.zeros(10_000, np.complex64))

    class Slow(Sink):
        n = 0

        def consume(self, chunk):
            time.sleep(0.001)
            self.n += 1
            in_flight_max[0] = max(in_flight_max[0], len(produced) - self.n)

    sink = Slow()
    g = Flowgraph(queue_depth=4)
    g.connect(Counting(), FrameBlock(lambda x: x, name="pass"), sink)
    g.run()
    assert sink.n == 300
    # two queues of 4 plus one chunk held by each of the three threads
    assert in_flight_max[0] <= 2 * 4 + 3


def test_first_error_stops_every_block_and_names_the_block():
    class Endless(Source):
        def generate(self):
            while not self.stopping:
                yield Chunk(np.zeros(100))

    class Boom(Block):
        def process(self, chunks):
            for i, c in enumerate(chunks):
                if i == 5:
                    raise ValueError("bad frame")
                yield c

    g = Flowgraph()
    g.connect(Endless(), Boom("boom"), VectorSink())
    with pytest.raises(FlowgraphError, match="boom.*bad frame") as info:
        g.run()
    assert isinstance(info.value.__cause__, ValueError)
    assert not _sdrcast_threads()


def test_ctrl_c_stops_cleanly_with_no_thread_left():
    class Endless(Source):
        def generate(self):
            while not self.stopping:
                time.sleep(0.001)
                yield Chunk(np.zeros(100))

    closed = []

    class Recorder(VectorSink):
        def close(self):
            closed.append(True)

    g = Flowgraph()
    g.connect(Endless(), Recorder())
    threading.Timer(0.3, _thread.interrupt_main).start()
    stats = g.run()
    assert stats["interrupted"] is True
    assert closed == [True]
    assert not _sdrcast_threads()


def test_status_line_reports_rates_and_real_time():
    out = io.StringIO()

    class Paced(Source):
        def generate(self):
            for _ in range(30):
                time.sleep(0.01)
                yield Chunk(np.zeros(1000, np.complex64))

    g = Flowgraph(status_interval=0.1, status_stream=out)
    g.connect(Paced("src", sample_rate=1e5), VectorSink("sink"))
    g.run()
    lines = out.getvalue().splitlines()
    assert lines and all(line.startswith("[sdrcast") for line in lines)
    assert "x rt" in lines[0] and "src" in lines[0] and "sink" in lines[0]


def test_messages_reach_a_running_block():
    class Gain(FrameBlock):
        def __init__(self):
            self.g = 1.0
            super().__init__(lambda x: x * self.g, name="gain")

        def handle_message(self, message):
            self.g = message

    class Slow(Source):
        def generate(self):
            for _ in range(40):
                time.sleep(0.005)
                yield Chunk(np.ones(10))

    sink = VectorSink()
    g = Flowgraph(queue_depth=1)
    g.connect(Slow(), Gain(), sink)
    threading.Timer(0.05, lambda: g.post("gain", 3.0)).start()
    g.run()
    values = set(sink.result().data.tolist())
    assert values == {1.0, 3.0}


def test_fan_in_interleaves_labelled_chunks_and_ends_after_every_input():
    a = VectorSource(np.arange(100), chunk_size=10, name="a")
    b = VectorSource(np.arange(1000, 1050), chunk_size=5, name="b")
    sink = VectorSink()
    g = Flowgraph(queue_depth=2)
    g.connect(a, Label("src", "a"), sink)
    g.connect(b, Label("src", "b"), sink)
    g.run()
    by = {k: np.concatenate([c.data for c in sink.chunks if c.tag("src") == k]) for k in "ab"}
    np.testing.assert_array_equal(by["a"], np.arange(100))
    np.testing.assert_array_equal(by["b"], np.arange(1000, 1050))
    assert len(sink.chunks) == 20


def test_bad_wiring_is_rejected():
    a, b = VectorSource(np.zeros(3), name="a"), VectorSource(np.zeros(3), name="b")
    with pytest.raises(Exception, match="is a source"):
        Flowgraph().connect(a, b)
    with pytest.raises(Exception, match="named"):
        Flowgraph().connect(VectorSource(np.zeros(1), name="x"), VectorSink("x"))


def test_blocks_with_tick_get_empty_chunks_while_idle():
    class Slow(Source):
        def generate(self):
            yield Chunk(np.ones(4))
            time.sleep(0.3)
            yield Chunk(np.ones(4))

    class Ticked(Block):
        tick_s = 0.02

        def process(self, chunks):
            for c in chunks:
                self.counters.add("empty" if len(c) == 0 else "data")
                if len(c):
                    yield c

    t, snk = Ticked("t"), VectorSink("snk")
    Flowgraph().connect(Slow("src"), t, snk).run()
    assert t.counters["data"] == 2 and t.counters["empty"] >= 5
    assert snk.result().data.size == 8
