"""Every receiver's echo profile (``channel_profile``, what the monitoring station shows):
a two-path channel's echo found at its delay and level, from the ATSC 3.0 scattered pilots,
the DTMB PN headers and the FeMBMS MBSFN RS; and its constellation (issue 14)."""
import numpy as np
import pytest

from sdrcast.mac.ip import udp_datagram
from sdrcast.mac.ts.mux import ProgramMux
from sdrcast.monitor.channel import echoes


def two_path(x: np.ndarray, delay: int, db: float, seed: int = 1) -> np.ndarray:
    """``x`` plus its echo ``delay`` samples later at ``db``, and noise 30 dB down."""
    y = x.astype(np.complex128)
    y[delay:] += 10 ** (db / 20) * x[:-delay]
    w = np.random.default_rng(seed).standard_normal(2 * y.size).view(np.complex128)
    return (y + w * np.sqrt(np.mean(np.abs(y) ** 2) / 2 * 1e-3)).astype(np.complex64)


def atsc3(delay, db):
    from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter
    from sdrcast.phy.atsc3.receiver import Atsc3Receiver

    cfg = Atsc3Config.preset("vector_s05")
    tx = Atsc3Transmitter(cfg)
    iq = tx.modulate(ProgramMux(tx.payload_bitrates()[0]).seconds(0.6))
    return Atsc3Receiver(cfg.sample_rate), two_path(iq, delay, db), cfg.sample_rate


def dtmb(delay, db):
    from sdrcast.phy.dtmb import PRESETS, DtmbReceiver, DtmbTransmitter

    c = PRESETS["mode2"]
    iq = DtmbTransmitter(c).modulate(ProgramMux(c.payload_bitrate).seconds(0.4))
    return DtmbReceiver(7.56e6), two_path(iq, delay, db), 7.56e6


def fembms(delay, db):
    from sdrcast.phy.fembms.config import FembmsConfig, PmchConfig, SessionConfig
    from sdrcast.phy.fembms.receiver import FembmsReceiver
    from sdrcast.phy.fembms.transmitter import FembmsTransmitter

    cfg = FembmsConfig(bandwidth_mhz=5.0, numerology="1.25", pmchs=(PmchConfig(data_mcs=9, sessions=(
        SessionConfig(lcid=5),)),))
    packets = [(5, udp_datagram(bytes(500), ("10.0.0.1", 4000), ("239.1.1.1", 5000), ident=i))
               for i in range(60)]
    return FembmsReceiver(cfg.rate), two_path(FembmsTransmitter(cfg).modulate(packets), delay, db), cfg.rate


@pytest.mark.parametrize("make, delay, db", [(atsc3, 50, -6.0), (dtmb, 30, -10.0), (fembms, 40, -8.0)],
                         ids=["atsc3", "dtmb", "fembms"])
def test_a_two_path_channel_shows_its_echo(make, delay, db):
    rx, y, rate = make(delay, db)
    assert rx.channel_profile() is None and rx.constellation() is None  # nothing equalised yet
    try:
        rx.push(y)
        rx.flush()
        d, p = rx.channel_profile()
        cells = rx.constellation()
    finally:
        rx.close()
    # the constellation: equalised cells at unit power (the echo taken out)
    assert cells.size >= 100 and 0.8 < float(np.mean(np.abs(cells) ** 2)) < 1.25
    assert d.shape == p.shape and p.max() == 1.0 and d[np.argmax(p)] == 0
    found = echoes(d, p)
    assert found, found
    strongest = found[0]
    assert abs(strongest[0] - delay / rate * 1e6) < 0.5 / rate * 1e6 + 1e-3, found
    assert abs(strongest[1] - db) < 1.0, found
    assert all(e[1] < db - 10 for e in found[1:]), found  # nothing else near its level


def shift(x: np.ndarray, samples: float) -> np.ndarray:
    """``x`` delayed by a fraction of a sample (circularly, through the spectrum)."""
    f = np.fft.fftfreq(x.size)
    return np.fft.ifft(np.fft.fft(x) * np.exp(-2j * np.pi * f * samples)).astype(np.complex64)


@pytest.mark.parametrize("make", [atsc3, dtmb], ids=["atsc3", "dtmb"])
def test_one_path_between_two_samples_shows_no_echo(make):
    """A path half-way between two samples: its sidelobes are not reported as echoes."""
    rx, y, rate = make(1, -60.0)
    try:
        rx.push(shift(y, 10.5))
        rx.flush()
        assert echoes(*rx.channel_profile()) == []
    finally:
        rx.close()
