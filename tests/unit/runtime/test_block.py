import numpy as np
import pytest

from sdrcast.runtime import Chunk, FrameAdapter, FrameBlock, Head, Tag, VectorSource, run_block
from sdrcast.runtime.testing import assert_chunk_invariant, flatten


def test_chunk_slice_and_concat_keep_tags_at_their_items():
    c = Chunk(np.arange(10), [Tag(0, "a", 1), Tag(7, "b", 2)])
    s = c.slice(5, 10)
    assert list(s.data) == [5, 6, 7, 8, 9]
    assert s.tags == (Tag(2, "b", 2),)
    joined = Chunk.concat([c.slice(0, 5), s])
    np.testing.assert_array_equal(joined.data, c.data)
    assert joined.tags == c.tags
    assert c.tag("b") == 2 and c.tag("zz", "dflt") == "dflt"


def test_frame_adapter_fixed_frames_and_tail_policies():
    data = Chunk(np.arange(25), [Tag(3, "x", 0), Tag(21, "y", 1)])
    out = run_block(FrameAdapter(10), [data])
    assert [len(c) for c in out] == [10, 10]
    assert out[0].tags == (Tag(3, "x", 0),)
    fa = FrameAdapter(10, tail="drop")
    run_block(fa, [data])
    assert fa.counters["tail_items_dropped"] == 5
    padded = run_block(FrameAdapter(10, tail="pad"), [data])
    assert len(padded[-1]) == 10 and list(padded[-1].data[5:]) == [0] * 5
    assert padded[-1].tags == (Tag(1, "y", 1),)
    emitted = run_block(FrameAdapter(10, tail="emit"), [data])
    assert len(emitted[-1]) == 5


def test_frame_adapter_variable_lengths():
    lengths = iter([3, 5, 2, 100])
    out = run_block(FrameAdapter(lambda: next(lengths), tail="emit"), [np.arange(12)])
    assert [len(c) for c in out] == [3, 5, 2, 2]


def test_frame_adapter_is_chunk_invariant():
    stream = Chunk(np.arange(1000, dtype=np.int32), [Tag(i, "t", i) for i in range(0, 1000, 37)])
    assert_chunk_invariant(lambda: FrameAdapter(64, tail="pad"), stream, trials=5)


def test_frame_block_scales_tag_offsets_through_rate_change():
    blk = FrameBlock(lambda x: np.repeat(x, 3), frame_len=4)
    out = run_block(blk, [Chunk(np.arange(8), [Tag(1, "k", "v"), Tag(6, "m", None)])])
    assert [len(c) for c in out] == [12, 12]
    assert out[0].tags == (Tag(3, "k", "v"),) and out[1].tags == (Tag(6, "m", None),)


def test_chunk_invariance_harness_detects_a_chunk_dependent_block():
    class FirstItemDoubler(FrameBlock):
        def __init__(self):
            super().__init__(lambda x: np.r_[x[:1] * 2, x[1:]])

    with pytest.raises(AssertionError):
        assert_chunk_invariant(FirstItemDoubler, np.arange(1, 200))


def test_head_and_vector_source():
    out = flatten(run_block(Head(25), VectorSource(np.arange(100), 10).generate()))
    np.testing.assert_array_equal(out.data, np.arange(25))


def test_control_messages_are_handled_between_chunks():
    class Gain(FrameBlock):
        def __init__(self):
            self.g = 1
            super().__init__(lambda x: x * self.g)

        def handle_message(self, message):
            self.g = message["gain"]

    blk = Gain()
    gen = blk.process(iter([Chunk(np.ones(2)), Chunk(np.ones(2))]))
    first = next(gen)
    blk.post({"gain": 5})
    second = next(gen)
    assert list(first.data) == [1, 1] and list(second.data) == [5, 5]
