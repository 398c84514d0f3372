"""C_red_coeff (A/322 Table 7.1): the band narrows by C_red x C_unit carriers, the pilot maps
carry exactly Table 7.4's data cells, and L1-Basic signals the reduction (the preamble symbols
after the first use the first subframe's)."""
import pytest

from sdrcast.analysis.metrics import occupied_bandwidth
from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter, PlpConfig, SubframeConfig
from sdrcast.phy.atsc3.l1 import parse_l1_basic
from sdrcast.phy.atsc3.l1_fec import decode as l1_decode
from sdrcast.phy.atsc3.pilots import carrier_map
from sdrcast.phy.atsc3.tables import ofdm


@pytest.mark.parametrize("fft, pattern", [(8192, "SP6_2"), (16384, "SP12_4"), (32768, "SP24_2")])
def test_pilot_maps_leave_the_tables_data_cells(fft, pattern):
    key = {8192: "8K", 16384: "16K", 32768: "32K"}[fft]
    p = list(ofdm()["scattered_pilot_patterns"]).index(pattern)
    dy = ofdm()["scattered_pilot_patterns"][pattern]["Dy"]
    for cred in range(5):
        want = ofdm()["cells_per_symbol"][f"data_cells_{key}"][p][cred]
        assert [int(carrier_map(fft, "D", i, 5, pattern, 2, cred)[1].sum()) for i in range(dy)] \
            == [want] * dy


def test_reduced_carriers_narrow_the_spectrum_and_are_signalled():
    obw = []
    for cred in (0, 4):
        cfg = Atsc3Config(num_preamble_symbols=2, subframes=(SubframeConfig(
            fft_size=8192, guard_interval=5, scattered_pilot_pattern="SP6_2", reduced_carriers=cred,
            num_ofdm_symbols=20, plps=(PlpConfig(fec_blocks=5),)),))
        tx = Atsc3Transmitter(cfg)
        framed = tx.frame_cells()
        basic = parse_l1_basic(l1_decode(framed[0], "basic", 1, 200)[0])
        assert basic["L1B_first_sub_reduced_carriers"] == cred
        assert basic["L1B_preamble_reduced_carriers"] == cred
        iq = tx.frame_samples(framed)
        assert tx.empty_carriers == 0
        obw.append(occupied_bandwidth(iq[13824:], cfg.sample_rate)["bandwidth_hz"])
    step = 6.912e6 / 8192  # carrier spacing
    assert obw[0] - obw[1] == pytest.approx(4 * 96 * step, rel=0.1)
