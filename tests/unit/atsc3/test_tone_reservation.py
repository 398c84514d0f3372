"""Tone reservation (A/322 8.x): each symbol but the frame's first gives its reserved carriers
(72/144/288, moved with the scattered pilots) up from its data cells; the algorithm fills only
those carriers, within the tone limit, and lowers the peaks; L1-Basic signals TR."""
import dataclasses

import numpy as np
import pytest

from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter, PlpConfig, frequency_interleaver, ofdm, pilots
from sdrcast.phy.atsc3.frame_geometry import reserved_carriers
from sdrcast.phy.atsc3.l1 import parse_l1_basic
from sdrcast.phy.atsc3.l1_fec import decode as l1_decode
from sdrcast.phy.atsc3.papr import papr_db

BASE = dataclasses.replace(Atsc3Config.preset("fixed_16k_256nuc"), num_preamble_symbols=2)
TR = dataclasses.replace(BASE, papr_reduction="TR")


@pytest.mark.parametrize("fft, n_tr", [(8192, 72), (16384, 144), (32768, 288)])
def test_reserved_carriers_come_out_of_the_data_cells(fft, n_tr):
    sub = dataclasses.replace(BASE.subframes[0], fft_size=fft, scattered_pilot_pattern="SP8_2",
                              guard_interval=5, plps=(PlpConfig(fec_blocks=1),))
    off = dataclasses.replace(BASE, subframes=(sub,)).layout(0)
    on = dataclasses.replace(TR, subframes=(sub,)).layout(0)
    assert on.cells[0] == off.cells[0]  # not in the frame's first symbol
    assert [a - b for a, b in zip(off.cells[1:], on.cells[1:], strict=True)] == [n_tr] * (len(on.cells) - 1)
    a = reserved_carriers(fft, "D", 0, 5, "SP8_2", 0)
    assert np.array_equal(reserved_carriers(fft, "D", 1, 5, "SP8_2", 0), a + 8)  # Dx (l mod Dy)


def test_only_reserved_carriers_change_and_peaks_come_down():
    tx = Atsc3Transmitter(TR)
    cells = tx.frame_cells()[0]
    basic = parse_l1_basic(l1_decode(cells, "basic", TR.l1_basic_fec_mode, 200)[0])
    assert basic["L1B_papr_reduction"] == 1
    s, lay = TR.subframes[0], tx.layouts[0]
    symbols, empty = pilots.insert(frequency_interleaver.interleave(cells, lay, True), lay)
    assert empty == 0
    plain = ofdm.modulate(symbols, lay).reshape(len(symbols), -1)[:, 1024:]
    clip_db, max_tone, iterations = TR.tr_clip_db, TR.tr_max_tone, TR.tr_iterations
    shaped = ofdm.modulate(symbols, lay, tr=(clip_db, max_tone, iterations))
    shaped = shaped.reshape(len(symbols), -1)[:, 1024:]
    n, noc = 16384, 13825
    diff = np.fft.fftshift(np.fft.fft(shaped - plain, axis=1), axes=1)[:, (n - noc) // 2 + 1:][:, :noc]
    ref = np.abs(np.fft.fft(plain, axis=1)).max()
    for j, kind in enumerate(lay.kinds):
        res = reserved_carriers(n, kind, j - 2, s.guard_interval, s.scattered_pilot_pattern, 0)
        other = np.delete(diff[j], res)
        assert np.abs(other).max() < 1e-4 * ref  # data and pilots untouched
        if kind == "FP":
            assert np.abs(diff[j]).max() < 1e-4 * ref
    gain = np.median(papr_db(plain[1:])) - np.median(papr_db(shaped[1:]))
    assert gain > 1.0
    # tone limit: reserved carriers at most max_tone x the data cells' RMS (unit) amplitude
    spectrum = np.fft.fftshift(np.fft.fft(plain, axis=1), axes=1)[:, (n - noc) // 2 + 1:][:, :noc]
    data = pilots.carrier_map(n, "D", 0, s.guard_interval, s.scattered_pilot_pattern,
                              s.scattered_pilot_boost, 0, True)[1]
    d = np.flatnonzero(data)[100]
    gain_d = np.abs(spectrum[2, d]) / np.abs(symbols[2][d])  # N x scale of a data symbol
    assert np.abs(diff[2:-1]).max() / gain_d <= max_tone * 1.001
