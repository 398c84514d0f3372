"""L1-Detail longer than K_seg (A/322 6.5.1): split into equal zero-padded blocks, each protected
alone; a frame with many PLPs signals them all and reads back."""
import numpy as np
import pytest

from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter, PlpConfig, SubframeConfig
from sdrcast.phy.atsc3.l1 import parse_l1_basic, parse_l1_detail
from sdrcast.phy.atsc3.l1_fec import cell_count, encode, fec_params, segments
from sdrcast.phy.atsc3.l1_fec import decode as l1_decode


def test_segment_sizes():
    assert segments(5000, 3) == (1, 5000)  # K_seg 6312: one block
    assert segments(7000, 3) == (2, 3504)  # ceil(7000 / 16) * 8
    assert segments(2352, 1) == (1, 2352) and segments(2353, 1) == (2, 1184)
    assert segments(9000, 2) == (3, 3000)  # K_seg 3072


@pytest.mark.parametrize("mode, k", [(1, 2400), (2, 7000), (3, 13000), (5, 6400)])
def test_segmented_detail_round_trip(mode, k):
    bits = np.random.default_rng(k).integers(0, 2, k, np.uint8)
    cells = encode(bits, "detail", mode)
    n, k_sig = segments(k, mode)
    assert n > 1 and cells.size == cell_count("detail", mode, k)
    per = fec_params("detail", mode, k_sig)["cells"]
    padded = np.concatenate([bits, np.zeros(n * k_sig - k, np.uint8)])
    np.testing.assert_array_equal(cells[-per:], encode(padded[-k_sig:], "detail", mode))
    np.testing.assert_array_equal(l1_decode(cells, "detail", mode, k)[0], bits)


def test_mode_1_repetition_beyond_the_parity_is_refused():
    from sdrcast.errors import ConfigError

    with pytest.raises(ConfigError, match="l1_detail_fec_mode 2..7"):
        encode(np.zeros(2000, np.uint8), "detail", 1)  # N_repeat 16022 > 12960 parity bits


def test_frame_with_many_plps_signals_them_all():
    plps = tuple(PlpConfig(plp_id=i, ldpc_length=16200, code_rate="6/15", modulation="QPSK")
                 for i in range(40))
    cfg = Atsc3Config(l1_detail_fec_mode=2, subframes=(SubframeConfig(
        fft_size=8192, guard_interval=5, scattered_pilot_pattern="SP6_2", num_ofdm_symbols=60,
        plps=plps),))
    tx = Atsc3Transmitter(cfg)
    cells = tx.frame_cells()[0]
    mode = cfg.l1_basic_fec_mode
    n_basic = fec_params("basic", mode, 200)["cells"]
    basic = parse_l1_basic(l1_decode(cells, "basic", mode, 200)[0])
    k = 8 * basic["L1B_L1_Detail_size_bytes"]
    assert segments(k, 2)[0] >= 2
    assert basic["L1B_L1_Detail_total_cells"] == cell_count("detail", 2, k)
    detail = parse_l1_detail(l1_decode(cells[n_basic:], "detail", 2, k)[0], basic)
    assert detail["L1D_plp_id"][0] == list(range(40))
    assert detail["L1D_plp_start"][0] == [8100 * i for i in range(40)]
