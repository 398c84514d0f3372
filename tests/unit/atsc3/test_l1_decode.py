"""L1 decoding (the inverse of A/322 6.5 with soft decisions): every L1-Basic and L1-Detail
mode decodes in AWGN about 1 dB above its measured threshold, says so, and reports failure
(never wrong bits marked good) well below it; segmented L1-Detail too."""
import numpy as np
import pytest

from sdrcast.phy.atsc3.l1_fec import decode, encode, segments

# Es/N0 (dB) where 20 of 20 blocks decoded (docs/atsc3.md, L1 decoding)
BASIC = {1: -9.0, 2: -3.0, 3: 1.0, 4: 5.0, 5: 9.0, 6: 14.0, 7: 19.0}
DETAIL = {1: -8.0, 2: -1.0, 3: 2.0, 4: 7.0, 5: 11.0, 6: 16.0, 7: 22.0}


def _noisy(cells, snr, rng):
    nv = 10 ** (-snr / 10)
    n = np.sqrt(nv / 2) * (rng.standard_normal(cells.size) + 1j * rng.standard_normal(cells.size))
    return (cells + n).astype(np.complex64), nv


@pytest.mark.parametrize("kind, mode, k", [("basic", m, 200) for m in BASIC] +
                         [("detail", m, 800) for m in DETAIL])
def test_decodes_above_threshold_and_fails_visibly_below(kind, mode, k):
    rng = np.random.default_rng(mode)
    thr = (BASIC if kind == "basic" else DETAIL)[mode]
    for _ in range(3):
        bits = rng.integers(0, 2, k, np.uint8)
        cells = encode(bits, kind, mode)
        y, nv = _noisy(cells, thr + 1, rng)
        got, ok = decode(y, kind, mode, k, nv)
        assert ok and np.array_equal(got, bits)
        y, nv = _noisy(cells, thr - 5, rng)
        assert not decode(y, kind, mode, k, nv)[1]


def test_segmented_detail_decodes_in_noise():
    rng = np.random.default_rng(3)
    k = 5000
    assert segments(k, 2)[0] == 2
    bits = rng.integers(0, 2, k, np.uint8)
    y, nv = _noisy(encode(bits, "detail", 2), 1.0, rng)
    got, ok = decode(y, "detail", 2, k, nv)
    assert ok and np.array_equal(got, bits)
