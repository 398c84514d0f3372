"""sdrcast <-> GNU Radio 3.10 gr-zeromq, both directions, tags off and on (real GNU Radio)."""
import json
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from sdrcast.errors import DeviceError
from sdrcast.runtime import Chunk, Flowgraph, Head, Tag, VectorSink
from sdrcast.sdr_io.zmq import ZmqSink, ZmqSource

pytestmark = pytest.mark.interop
PEER = str(Path(__file__).with_name("gr_peer.py"))
N = 20_000


def ramp(n):
    i = np.arange(n, dtype=np.float32)
    return (i - 1j * i).astype(np.complex64)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("gr_pattern, our_pattern", [("push", "pull"), ("pub", "sub")])
@pytest.mark.parametrize("tags", [False, True])
def test_gnuradio_to_sdrcast(gnuradio_python, gr_pattern, our_pattern, tags):
    addr = f"tcp://127.0.0.1:{free_port()}"
    peer = subprocess.Popen([gnuradio_python, PEER, "send", gr_pattern, addr, str(int(tags)),
                             str(N)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        src = ZmqSource(addr, our_pattern, pass_tags=tags, idle_timeout=3, connect_timeout=30)
        out = VectorSink()
        Flowgraph().connect(src, Head(N), out).run()
    finally:
        _, err = peer.communicate(timeout=60)
    assert peer.returncode == 0, err
    got = out.result()
    np.testing.assert_array_equal(got.data, ramp(N))
    if tags:
        assert [(t.offset, t.key, t.value) for t in got.tags] == \
            [(k, "frame_start", k // 1000) for k in range(0, N, 1000)]
    else:
        assert got.tags == ()


@pytest.mark.parametrize("our_pattern, gr_pattern", [("push", "pull"), ("pub", "sub")])
@pytest.mark.parametrize("tags", [False, True])
def test_sdrcast_to_gnuradio(gnuradio_python, our_pattern, gr_pattern, tags, tmp_path):
    addr = f"tcp://127.0.0.1:{free_port()}"
    snk = ZmqSink(addr, our_pattern, pass_tags=tags, send_timeout=5)
    peer = subprocess.Popen([gnuradio_python, PEER, "recv", gr_pattern, addr, str(int(tags)),
                             str(N), str(tmp_path / "gr.json")], stderr=subprocess.PIPE, text=True)
    x = ramp(N)
    try:
        time.sleep(2.0)  # GNU Radio imports and connects (PUB drops until a subscriber joins)
        for i in range(0, N, 2500):
            snk.consume(Chunk(x[i:i + 2500], [Tag(0, "frame_start", i // 2500)]))
        # GNU Radio's source hands items on in whole buffers: keep the stream going (zeros)
        # until its head block has its N items, as a live stream would
        deadline = time.monotonic() + 60
        try:
            while peer.poll() is None and time.monotonic() < deadline:
                snk.consume(Chunk(np.zeros(2500, np.complex64)))
                time.sleep(0.02)
        except DeviceError:
            pass  # the peer finished and went away between poll() and consume()
        _, err = peer.communicate(timeout=10)
    finally:
        snk.close()
        if peer.poll() is None:
            peer.kill()
    assert peer.returncode == 0, err
    res = json.loads((tmp_path / "gr.json").read_text())
    got = np.array(res["re"], np.float32) + 1j * np.array(res["im"], np.float32)
    np.testing.assert_array_equal(got, x)
    if tags:
        assert [(t["offset"], t["key"], t["value"]) for t in res["tags"]] == \
            [(i, "frame_start", i // 2500) for i in range(0, N, 2500)]
    else:
        assert res["tags"] == []


def test_atsc3_receiver_fed_by_gnuradio(gnuradio_python, tmp_path):
    """Issue 17: an ATSC 3.0 signal played by GNU Radio (file_source -> zeromq push_sink) into
    ``sdrcast rx atsc3 --input zmq+pull://``: found, tracked and decoded byte-exact, the run
    ending when the stream goes quiet."""
    from sdrcast.channel.awgn import Awgn
    from sdrcast.cli import main
    from sdrcast.mac.ts import sample_stream
    from sdrcast.phy.atsc3 import Atsc3Config, Atsc3Transmitter

    tx = Atsc3Transmitter(Atsc3Config.preset("vector_s09"))
    ts = sample_stream(1500, seed=4)
    iq = Awgn(20.0, seed=1)(np.concatenate([np.zeros(12345, np.complex64), tx.modulate(ts)]))
    iq.tofile(tmp_path / "atsc3.cf32")
    addr = f"127.0.0.1:{free_port()}"
    peer = subprocess.Popen([gnuradio_python, PEER, "file", f"tcp://{addr}", str(tmp_path / "atsc3.cf32")],
                            stderr=subprocess.PIPE, text=True)
    try:
        rc = main(["rx", "atsc3", "--input", f"zmq+pull://{addr}", "--rate", "6.912e6",
                   "--output", str(tmp_path / "out.ts"), "--timeout", "4", "--quiet",
                   "--report", str(tmp_path / "r.json")])
    finally:
        _, err = peer.communicate(timeout=60)
    assert rc == 0 and peer.returncode == 0, err
    out = np.fromfile(tmp_path / "out.ts", np.uint8)
    np.testing.assert_array_equal(out, ts)
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["start"] == 12345 and rep["sync_losses"] == 0 and rep["samples_in"] == iq.size
