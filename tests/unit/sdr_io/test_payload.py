import time

import numpy as np
import pytest

from sdrcast.errors import ConfigError, DeviceError
from sdrcast.mac.ts import NULL_PID, TS_PACKET, null_packets, pids, sample_stream
from sdrcast.runtime import Flowgraph, VectorSink, run_block
from sdrcast.runtime.testing import flatten
from sdrcast.sdr_io import open_sink, open_source
from sdrcast.sdr_io.payload import TsFileSink, TsFileSource, UdpSink, UdpSource, parse_udp


def test_ts_file_round_trip_and_counters(tmp_path):
    ts = sample_stream(100)
    (tmp_path / "in.ts").write_bytes(ts.tobytes() + b"\x47\x00")
    src = TsFileSource(tmp_path / "in.ts", packets_per_chunk=7)
    out = flatten(run_block(src))
    np.testing.assert_array_equal(out.data, ts)
    assert src.counters["trailing_bytes_dropped"] == 2
    run_block(TsFileSink(tmp_path / "out.ts"), [out])
    assert (tmp_path / "out.ts").read_bytes() == ts.tobytes()


def test_sync_errors_are_counted(tmp_path):
    ts = sample_stream(10)
    ts[188 * 3] = 0x00
    (tmp_path / "bad.ts").write_bytes(ts.tobytes())
    src = TsFileSource(tmp_path / "bad.ts")
    run_block(src)
    assert src.counters["sync_errors"] == 1


def test_null_packets():
    n = null_packets(3)
    assert n.size == 3 * TS_PACKET and np.all(pids(n) == NULL_PID)


def test_udp_ts_loopback_seven_packets_per_datagram():
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ts = sample_stream(70)
    src = UdpSource(f"udp://127.0.0.1:{port}", idle_timeout=0.5)
    out = VectorSink()
    g = Flowgraph().connect(src, out)
    g.start()
    time.sleep(0.1)
    sink = UdpSink(f"udp://127.0.0.1:{port}")
    run_block(sink, [ts[:1000], ts[1000:]])
    g.wait()
    assert [len(c) for c in out.chunks] == [7 * TS_PACKET] * 10
    np.testing.assert_array_equal(out.result().data, ts)


def test_udp_address_errors():
    with pytest.raises(DeviceError, match="udp://HOST:PORT"):
        parse_udp("udp://nowhere")
    with pytest.raises(ConfigError, match="not samples"):
        open_source("udp://127.0.0.1:1234")
    assert parse_udp("udp://@239.1.1.1:5000") == ("239.1.1.1", 5000)
    with pytest.raises(ConfigError, match="unknown scheme"):
        open_sink("http://x/y")
