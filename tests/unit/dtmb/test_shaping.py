"""SRRC-shaped DTMB at radio rates: unit power, ~7.56 MHz occupied, and the receiver's matched
filter brings it back to symbols it decodes."""
import numpy as np
import pytest

from sdrcast.analysis.metrics import occupied_bandwidth
from sdrcast.channel.emulator import ChannelConfig, ChannelEmulator
from sdrcast.errors import ConfigError
from sdrcast.mac.ts import sample_stream
from sdrcast.phy.dtmb import DtmbConfig, DtmbReceiver, DtmbTransmitter
from sdrcast.phy.dtmb.shaping import shaper
from sdrcast.phy.dtmb.stages import latency_frames


def test_shaper_keeps_unit_power_and_the_band():
    rng = np.random.default_rng(0)
    x = ((rng.standard_normal(300_000) + 1j * rng.standard_normal(300_000)) / np.sqrt(2))
    y = shaper(10e6)(x.astype(np.complex64))
    assert np.mean(np.abs(y) ** 2) == pytest.approx(1.0, abs=0.02)
    bw = occupied_bandwidth(y, 10e6)["bandwidth_hz"]
    assert 7.4e6 < bw < 7.7e6  # 7.56 MHz x (1 + 0.05) at the band edges, 99 % power inside


@pytest.mark.parametrize("rate", [10e6, 15.12e6])
def test_shaped_round_trip_with_offsets(rate):
    cfg = DtmbConfig("pn420", True, 3780, "64QAM", 0.6, 1, sample_rate=rate)
    ts = sample_stream((latency_frames(cfg) + 4) * cfg.ts_bytes_per_frame // 188)
    iq = DtmbTransmitter(cfg).push(ts)
    y = ChannelEmulator(ChannelConfig(sample_rate=rate, snr_db=20, bandwidth=7.56e6, cfo_hz=10e3,
                                      sco_ppm=10, seed=1))(iq)
    out, rep = DtmbReceiver(sample_rate=rate).demodulate(y)
    assert out.size >= 3 * cfg.ts_bytes_per_frame and rep["ldpc_failures"] == 0
    np.testing.assert_array_equal(out, ts[:out.size])


@pytest.mark.parametrize("rate", [7e6, 10.0001e6 + 1 / 3])
def test_rates_that_cannot_carry_the_band_are_refused(rate):
    with pytest.raises(ConfigError, match="sample_rate"):
        DtmbConfig(sample_rate=rate)
