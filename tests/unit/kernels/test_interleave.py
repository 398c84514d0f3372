import numpy as np
import pytest

from sdrcast.errors import ConfigError
from sdrcast.phy.interleave import BlockInterleaver, ConvolutionalInterleaver
from sdrcast.runtime import FrameBlock
from sdrcast.runtime.testing import assert_chunk_invariant


def test_block_interleaver_row_in_column_out_and_inverse():
    il = BlockInterleaver.rows_cols(3, 4)
    x = np.arange(12)
    assert list(il(x)) == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]
    np.testing.assert_array_equal(il.inverse()(il(x)), x)
    batch = np.arange(24).reshape(2, 12)
    np.testing.assert_array_equal(il.inverse()(il(batch)), batch)
    with pytest.raises(ConfigError, match="takes 12"):
        il(np.arange(10))
    with pytest.raises(ConfigError, match="permutation"):
        BlockInterleaver([0, 0, 1])


@pytest.mark.parametrize("branches, unit", [(52, 2), (12, 17), (3, 1)])
def test_convolutional_interleaver_pair_is_a_pure_delay(branches, unit, rng):
    il = ConvolutionalInterleaver(branches, unit, np.int64)
    de = il.inverse()
    x = rng.integers(1, 1 << 30, 3 * il.latency + 5 * branches)
    y = de(il(x))
    np.testing.assert_array_equal(y[il.latency:], x[:x.size - il.latency])
    assert np.all(y[:il.latency] == 0)


def test_convolutional_interleaver_branch_delays():
    il = ConvolutionalInterleaver(3, 1, np.int64)
    y = il(np.arange(1, 13))
    # branch b delays by b*unit*branches items: item i of branch b appears b*3 items later
    assert list(y) == [1, 0, 0, 4, 2, 0, 7, 5, 3, 10, 8, 6]


def test_convolutional_interleaver_is_chunk_invariant(rng):
    x = rng.integers(0, 255, 5000).astype(np.int64)
    assert_chunk_invariant(lambda: FrameBlock(ConvolutionalInterleaver(52, 3, np.int64)), x)
