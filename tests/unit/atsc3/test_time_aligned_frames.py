"""Time-aligned frames: exactly frame_length_ms of samples; the excess over the symbols goes
into every payload symbol's guard interval (signalled in L1-Basic) and the remainder follows
the last symbol as a cyclic postfix; every guard interval stays a cyclic prefix."""
import dataclasses

import numpy as np
import pytest

from sdrcast.errors import ConfigError
from sdrcast.mac.ts import sample_stream
from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter, PlpConfig, SubframeConfig
from sdrcast.phy.atsc3.framing import frame_timing
from sdrcast.phy.atsc3.l1 import parse_l1_basic
from sdrcast.phy.atsc3.l1_fec import decode as l1_decode

SUB = SubframeConfig(fft_size=8192, guard_interval=5, scattered_pilot_pattern="SP6_2",
                     num_ofdm_symbols=20, plps=(PlpConfig(fec_blocks=5),))


def test_frame_is_exactly_its_length_with_cyclic_guard_intervals():
    cfg = Atsc3Config(num_preamble_symbols=2, frame_length_ms=50, subframes=(SUB,))
    tx = Atsc3Transmitter(cfg)
    excess, postfix = frame_timing(cfg)
    assert tx.frame_samples_count == 50e-3 * 6.912e6 == 345600
    assert (excess, postfix) == divmod(345600 - 13824 - 22 * 9216, 20) and postfix > 0
    iq = tx.modulate(sample_stream(3000))
    assert iq.size % tx.frame_samples_count == 0
    basic = parse_l1_basic(l1_decode(tx.frame_cells()[0], "basic", 1, 200)[0])
    assert basic["L1B_frame_length_mode"] == 0 and basic["L1B_frame_length"] == 10
    assert basic["L1B_excess_samples_per_symbol"] == excess
    pos, n, g = tx.bootstrap.size, 8192, 1024
    for k in range(22):  # 2 preamble symbols, then 20 payload symbols with longer prefixes
        p = g + (excess if k >= 2 else 0)
        np.testing.assert_array_equal(iq[pos:pos + p], iq[pos + n:pos + n + p])
        pos += p + n
    np.testing.assert_array_equal(iq[pos:pos + postfix], iq[pos - n:pos - n + postfix])
    assert pos + postfix == tx.frame_samples_count


def test_symbol_aligned_frames_are_unchanged_and_bad_lengths_refused():
    assert frame_timing(Atsc3Config(subframes=(SUB,))) == (0, 0)
    with pytest.raises(ConfigError, match="multiple of 5"):
        Atsc3Config(frame_length_ms=102, subframes=(SUB,))
    with pytest.raises(ConfigError, match="the symbols need"):
        Atsc3Config(frame_length_ms=50, subframes=(dataclasses.replace(SUB, num_ofdm_symbols=40),))
    with pytest.raises(ConfigError, match="8191"):
        Atsc3Config(frame_length_ms=200, subframes=(SUB,))


def test_symbol_aligned_frames_signal_their_time_offset():
    """Issue 11 item 6: L1B_time_offset is the samples between the preceding millisecond
    boundary and the frame's start (0 only while frames last whole milliseconds). 16K, GI 512,
    SP16_2, CTI: frame k starts k * N samples in, so it carries k * N mod 6912; the receiver's
    per-frame L1 check (CTI fields and offset moving together) passes on every frame."""
    from sdrcast.channel.awgn import Awgn
    from sdrcast.phy.atsc3.demodulator import Atsc3Demodulator

    plp = PlpConfig(fec_blocks=2, modulation="QPSK", code_rate="6/15", ldpc_length=16200,
                    ti_mode="CTI", cti_depth=512)
    sub = SubframeConfig(fft_size=16384, guard_interval=4, scattered_pilot_pattern="SP16_2",
                         num_ofdm_symbols=20, plps=(plp,))
    cfg = Atsc3Config(subframes=(sub,))
    tx = Atsc3Transmitter(cfg)
    n = tx.frame_samples_count
    assert n % 6912  # frames do not last whole milliseconds
    offsets = []
    for _ in range(4):  # each frame's framed cells, as next_frames makes them
        basic = parse_l1_basic(l1_decode(tx.frame_cells()[0], "basic", cfg.l1_basic_fec_mode,
                                         200)[0])
        offsets.append(basic["L1B_time_offset"])
        tx.frames += 1
    assert offsets == [k * n % 6912 for k in range(4)] and offsets[1] > 0
    iq = Atsc3Transmitter(cfg).modulate(sample_stream(400))
    _, rep = Atsc3Demodulator(cfg).demodulate(Awgn(25.0, seed=1)(iq))
    assert rep["frames"] >= 4 and rep["l1_errors"] == 0
