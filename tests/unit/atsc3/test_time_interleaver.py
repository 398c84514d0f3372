"""Hybrid time interleaver parts against the tables' vectors (A/327 4x3 example, L_0 and P_r),
and the whole interleaver is a permutation that spreads each FEC block over the TI block."""
import numpy as np
import pytest

from sdrcast.phy.atsc3.tables import _npz
from sdrcast.phy.atsc3.time_interleaver import (
    block_sizes,
    cell_permutation,
    hybrid,
    offsets,
    twisted_read_order,
)

Z = _npz("time_interleaver_vectors.npz")


@pytest.mark.parametrize("n", [2700, 8100, 32400])
def test_cell_interleaver_sequences(n):
    np.testing.assert_array_equal(cell_permutation(n), Z[f"cell_interleaver_L0_Ncells_{n}"])
    np.testing.assert_array_equal(offsets(n, 64), Z[f"cell_interleaver_Pr_Ncells_{n}_first64"])


def test_twisted_block_interleaver_read_orders():
    np.testing.assert_array_equal(twisted_read_order(4, 3, 1), Z["tbi_read_order_Nr4_Nc3_Nvirt1"])
    np.testing.assert_array_equal(twisted_read_order(2700, 37, 0)[:200],
                                  Z["tbi_read_order_Nr2700_Nc37_Nvirt0_first200"])


def test_hybrid_is_a_permutation_with_smaller_ti_blocks_first():
    assert block_sizes(51, 2) == [25, 26]
    x = np.arange(7 * 2700)
    y = hybrid(x, 2700, 3, 8)
    assert sorted(y) == list(x) and not np.array_equal(x, y)


def test_convolutional_interleaver_index_map():
    """The tables' CTI example (7 rows, start row 3): out[q] = in[q - 7 ((3 + q) mod 7)] wherever
    that input exists (the example's start-up cells are its own; s05 checks gr-atsc3's fill)."""
    from sdrcast.phy.atsc3.time_interleaver import CtiInterleaver

    x, ref = Z["cti_example_Nrows7_startrow3_input"], Z["cti_example_Nrows7_startrow3_output"]
    cti = CtiInterleaver(7, np.full(4, -1.0, np.complex64), 7)
    cti(np.full(3, -2, np.complex64))  # three earlier cells: the commutator at row 3
    out = np.concatenate([cti(x[:50].astype(np.complex64)), cti(x[50:].astype(np.complex64))])
    q = np.arange(x.size)
    real = q - 7 * ((3 + q) % 7) >= 0
    np.testing.assert_array_equal(out.real[real], ref[real])
    assert np.isin(out.real[~real], (-1, -2)).all()  # start-up fill or the earlier cells
    assert cti.start_row == (3 + x.size) % 7
