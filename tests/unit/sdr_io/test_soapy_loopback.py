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


def test_tx_and_rx_in_two_processes_share_the_loop(soapy, tmp_path):
    """Issue 11 item 10: the ring lives in shared memory, so `sdrcast convert` into the loopback
    in one process reaches `sdrcast convert` out of it in another (it blocked for ever)."""
    import os
    import subprocess
    import sys

    from sdrcast.sdr_io import read_samples, write_samples

    x = (np.exp(2j * np.pi * 0.01 * np.arange(300_000)) * 0.5).astype(np.complex64)
    write_samples(tmp_path / "in.cf32", x, 1e6)
    loop = f"driver=sdrcast_loopback,loop=proc{os.getpid()}"
    rx = subprocess.Popen([sys.executable, "-m", "sdrcast", "convert", f"soapy:{loop}",
                           str(tmp_path / "out.cf32"), "--rate", "1e6", "--num-samples",
                           str(x.size), "--quiet", "--timeout", "20"], stderr=subprocess.PIPE,
                          text=True)
    tx = subprocess.run([sys.executable, "-m", "sdrcast", "convert", str(tmp_path / "in.cf32"),
                         f"soapy:{loop}", "--rate", "1e6", "--quiet"], capture_output=True,
                        text=True, timeout=60)
    assert tx.returncode == 0, tx.stderr
    assert rx.wait(timeout=60) == 0, rx.stderr.read()
    got, _ = read_samples(tmp_path / "out.cf32")
    np.testing.assert_array_equal(got, x)


def test_a_silent_radio_is_an_error_not_a_hang(soapy):
    rx = soapy.SoapySource(_args(), 1e6, timeout_s=0.05, stall_s=0.3)
    with pytest.raises(DeviceError, match="no samples for 0.3 s"):
        list(rx.generate())
    rx.close()


def test_paced_tx_blocks_like_a_radio(soapy):
    """Paced, the TX takes samples at the sample rate once its buffer is full (it dropped
    everything beyond the buffer at once before)."""
    args = _args(pace=1, buffer=4096)
    with soapy.SoapySink(args, 200e3) as tx:
        t0 = time.monotonic()
        tx.consume(Chunk(np.zeros(4096 + 40_000, np.complex64)))
        assert time.monotonic() - t0 >= 0.18  # 40,000 samples at 200 ksps
        assert tx.counters.get("timeouts", 0) == 0
