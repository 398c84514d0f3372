"""SoapySDR source/sink through the sdrcast_loopback module: the real SoapySDR path, no radio."""
import threading
import time

import numpy as np
import pytest

from sdrcast.errors import DeviceError
from sdrcast.runtime import Chunk, Flowgraph, VectorSink, VectorSource

pytestmark = pytest.mark.interop


@pytest.fixture
def soapy(soapy_loopback):
    from sdrcast.sdr_io import soapy as mod

    return mod


_loops = iter(range(10_000))


def _args(**extra):
    items = {"driver": "sdrcast_loopback", "loop": f"t{next(_loops)}", **extra}
    return ",".join(f"{k}={v}" for k, v in items.items())


@pytest.mark.parametrize("fmt, tol", [("CF32", 0), ("CS16", 1 / 32768)])
def test_tx_to_rx_through_flowgraphs(soapy, fmt, tol, rng):
    args = _args()
    x = ((rng.standard_normal(200_000) + 1j * rng.standard_normal(200_000)) * 0.1).astype(np.complex64)
    rx = soapy.SoapySource(args, 2e6, 100e6, gain={"LNA": 10, "VGA": 5}, num_samples=x.size, fmt=fmt)
    tx = soapy.SoapySink(args, 2e6, 100e6, gain=20, fmt=fmt)
    out = VectorSink()
    g_rx = Flowgraph().connect(rx, out)
    g_rx.start()
    Flowgraph().connect(VectorSource(x, 7000), tx).run()
    g_rx.wait()
    got = out.result()
    np.testing.assert_allclose(got.data, x, atol=tol)
    assert got.tags[0].key == "rx_time" and got.tags[0].value == 0


def test_settings_are_validated_against_the_device(soapy):
    with pytest.raises(DeviceError, match="antenna='ANT9'.*RX"):
        soapy.SoapySource(_args(), 1e6, antenna="ANT9")
    with pytest.raises(DeviceError, match="gain stage 'XYZ'.*LNA"):
        soapy.SoapySource(_args(), 1e6, gain={"XYZ": 3})
    with pytest.raises(DeviceError, match="channel=3"):
        soapy.SoapySink(_args(), 1e6, channel=3)
    with pytest.raises(DeviceError, match="format CS8.*CF32"):
        soapy.SoapySink(_args(), 1e6, fmt="CS8")


def test_missing_device_lists_what_soapysdr_sees(soapy):
    with pytest.raises(DeviceError, match="driver=hackrf.*sdrcast_loopback"):
        soapy.SoapySource("driver=hackrf", 1e6)
    assert soapy.list_devices("driver=sdrcast_loopback")[0]["driver"] == "sdrcast_loopback"
    assert soapy.list_devices("driver=hackrf") == []


def test_rx_timeouts_are_counted_and_stop_is_clean(soapy):
    rx = soapy.SoapySource(_args(), 1e6, timeout_s=0.05)
    g = Flowgraph().connect(rx, VectorSink())
    threading.Timer(0.4, g.stop).start()
    g.run()
    assert rx.counters["timeouts"] >= 3
    assert rx.device is None  # closed


def test_paced_overflow_when_rx_falls_behind(soapy):
    args = _args(pace=1, buffer=4096)
    with soapy.SoapySource(args, 1e6, num_samples=1000, timeout_s=0.5) as rx, \
            soapy.SoapySink(args, 1e6) as tx:
        tx.consume(Chunk(np.ones(20_000, np.complex64)))
        list(rx.generate())
        assert rx.counters["overflows"] == 1
    assert rx.device is None and tx.device is None  # closed by the with block


def test_paced_underflow_when_tx_falls_behind(soapy):
    args = _args(pace=1)
    rx = soapy.SoapySource(args, 1e6, num_samples=5000, timeout_s=0.5)
    tx = soapy.SoapySink(args, 1e6)
    t0 = time.monotonic()
    got = np.concatenate([c.data for c in rx.generate()])
    assert time.monotonic() - t0 >= 0.004  # paced at 1 Msps
    assert np.all(got == 0)
    tx.consume(Chunk(np.ones(10, np.complex64)))
    assert tx.counters["underflows"] == 1
    tx.close()
    rx.close()
