"""FeMBMS sequences: the 36.211 7.2 Gold sequence against the shared c(n) vectors; CRS and
MBSFN RS counts; PBCH resource elements per cyclic prefix."""

import numpy as np
import pytest

from sdrcast.phy.fembms import pbch, signals
from sdrcast.phy.fembms.pmch import MbsfnSubframe
from sdrcast.phy.fembms.tables import json_table
from sdrcast.phy.kernels.prbs import gold


@pytest.mark.parametrize("name", sorted(json_table("sequences_36211.json")["gold_test_vectors"]))
def test_gold_sequence_vectors(name):
    t = json_table("sequences_36211.json")["gold_test_vectors"][name]
    assert "".join(map(str, gold(t["c_init"], 128))) == t["first_128_bits"]


@pytest.mark.parametrize("normal_cp, count", [(True, 240), (False, 216)])
def test_pbch_resource_elements_fill_a_segment(normal_cp, count):
    ls, ks = pbch.resource_elements(pci=7, n_rb=50, normal_cp=normal_cp)
    assert ls.size == count == (1920 if normal_cp else 1728) // 8
    assert len(set(zip(ls.tolist(), ks.tolist(), strict=True))) == count
    _, crs_k = signals.crs(7, 50, 1, 0, normal_cp, 0)
    assert not set(ks[ls == ls.min()]) & set(crs_k.tolist())


@pytest.mark.parametrize("num, res", [("15e", 2550), ("7.5", 3150), ("1.25", 3000)])
def test_mbsfn_subframe_resource_elements(num, res):
    """25 PRB: 15 kHz with a 2-symbol non-MBSFN region, 7.5 kHz and 1.25 kHz (36.211 6.10.2)."""
    sub = MbsfnSubframe(num, 25, 3, 4, region=2 if num == "15e" else 0)
    assert sub.data_res == res
    grid = sub.grid(np.ones(res, np.complex64))
    assert np.count_nonzero(grid) == grid.size - (2 * 300 if num == "15e" else 0)


def test_qpsk_sequence_is_unit_power_and_offset():
    a = signals.qpsk_sequence(1234, 10, 5)
    b = signals.qpsk_sequence(1234, 15)
    np.testing.assert_array_equal(a, b[5:])
    np.testing.assert_allclose(np.abs(a), 1, atol=1e-6)
