import socket
import struct
import threading
import time

import numpy as np
import pytest
import zmq
from hypothesis import given
from hypothesis import strategies as st

from sdrcast.errors import ConfigError, DeviceError
from sdrcast.runtime import Chunk, Flowgraph, Head, Tag, VectorSink, VectorSource
from sdrcast.sdr_io import open_sink, open_source, pmt
from sdrcast.sdr_io.zmq import ZmqSink, ZmqSource, decode_tag_header, encode_tag_header

# Bytes captured from GNU Radio 3.10.5 (pmt.serialize_str), see research/environment.md
GR_BYTES = [
    ({"b": 2.0, "a": 1}, "090702000162044000000000000000090702000161030000000106"),
    ([1, 2], "080000000203000000010300000002"),
    ((1, "a"), "0c00000002030000000102000161"),
    (5, "0300000005"),
    (2**40, "0d0000010000000000"),
    ("sob", "020003736f62"),
]


@pytest.mark.parametrize("value, hexbytes", GR_BYTES)
def test_pmt_bytes_match_gnuradio(value, hexbytes):
    assert pmt.serialize(value).hex() == hexbytes
    assert pmt.deserialize(bytes.fromhex(hexbytes)) == (value, len(hexbytes) // 2)


def test_pmt_uniform_vectors_match_gnuradio():
    assert pmt.serialize(np.array([1, 2, 3], np.uint8)).hex() == "0a00000000030100010203"
    assert pmt.serialize(np.array([1 + 2j], np.complex64)).hex() == "0a0a0000000101003f80000040000000"
    v, _ = pmt.deserialize(bytes.fromhex("0a080000000201003f80000040000000"))
    np.testing.assert_array_equal(v, np.array([1, 2], np.float32))


pmt_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20)
    | st.floats(allow_nan=False) | st.complex_numbers(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5), inner, min_size=1, max_size=3), max_leaves=10)


@given(pmt_values)
def test_pmt_round_trip(value):
    out, n = pmt.deserialize(pmt.serialize(value))
    assert out == value
    assert n == len(pmt.serialize(value))


@given(st.binary(max_size=64))
def test_pmt_parser_never_crashes_on_garbage(data):
    """Anything off the network parses or raises PmtError, never another exception."""
    try:
        _, pos = pmt.deserialize(data)
    except pmt.PmtError:
        return
    assert 0 < pos <= len(data)


def test_gr_tag_header_layout():
    # offset 48000, key 'sob', value 42, srcid none -- bytes as observed from gr-zeromq
    hdr = encode_tag_header(48000, [Tag(0, "sob", 42)])
    assert hdr[:19] == struct.pack("<HBQQ", 0x5FF0, 1, 48000, 1)
    assert hdr[19:].hex() == "80bb000000000000" + "020003736f62" + "030000002a" + "01"
    off, tags, start = decode_tag_header(hdr + b"payload")
    assert (off, tags, hdr[start:] + b"payload") == (48000, [Tag(0, "sob", 42)], hdr[start:] + b"payload")


def _addr():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def _run_pair(sink_spec, source_spec, chunks, n_expect):
    out = VectorSink()
    src = open_source(source_spec, timeout=5)
    g_rx = Flowgraph()
    g_rx.connect(src, Head(n_expect), out)
    snk = open_sink(sink_spec)
    g_rx.start()
    time.sleep(0.3)  # let SUB join before PUB sends (slow-joiner)
    g_tx = Flowgraph()
    g_tx.connect(VectorSource(np.zeros(0)) if not chunks else _ChunkSource(chunks), snk)
    g_tx.run()
    g_rx.wait()
    return out.result()


class _ChunkSource(VectorSource):
    def __init__(self, chunks):
        super().__init__(np.zeros(0))
        self.list = chunks

    def generate(self):
        yield from self.list


@pytest.mark.parametrize("pattern", [("push", "pull"), ("pub", "sub"), ("rep", "req")])
@pytest.mark.parametrize("tags", [False, True])
def test_zmq_sink_to_source_exact_with_and_without_tags(pattern, tags, rng):
    x = (rng.standard_normal(20_000) + 1j * rng.standard_normal(20_000)).astype(np.complex64)
    chunks = [Chunk(x[i:i + 3000], [Tag(5, "frame_start", i // 3000)] if tags else [])
              for i in range(0, x.size, 3000)]
    a = _addr()
    q = "?pass_tags=1" if tags else ""
    got = _run_pair(f"zmq+{pattern[0]}://{a}{q}", f"zmq+{pattern[1]}://{a}{q}", chunks, x.size)
    np.testing.assert_array_equal(got.data, x)
    if tags:
        assert [(t.offset, t.value) for t in got.tags] == [(i + 5, i // 3000) for i in range(0, x.size, 3000)]
    else:
        assert got.tags == ()


def test_source_reassembles_items_split_across_messages():
    a = _addr()
    ctx = zmq.Context.instance()
    push = ctx.socket(zmq.PUSH)
    push.bind(f"tcp://{a}")
    x = np.arange(10, dtype=np.complex64)
    raw = x.tobytes()
    src = ZmqSource(f"tcp://{a}", "pull", idle_timeout=0.5)
    push.send(raw[:3])  # cuts inside items
    push.send(raw[3:41])
    push.send(raw[41:])
    got = np.concatenate([c.data for c in src.generate()])
    src.close()
    push.close(0)
    np.testing.assert_array_equal(got, x)


def test_keyed_pub_sub_filters_by_key():
    a = _addr()
    snk = ZmqSink(f"tcp://{a}", "pub", key="atsc3")
    other = ZmqSink(f"tcp://{_addr()}", "pub", key="dtmb")
    src = ZmqSource(f"tcp://{a}", "sub", key="atsc3", idle_timeout=0.5)
    time.sleep(0.3)
    snk.consume(Chunk(np.ones(4, np.complex64)))
    got = np.concatenate([c.data for c in src.generate()])
    for b in (snk, other, src):
        b.close()
    np.testing.assert_array_equal(got, np.ones(4, np.complex64))


def test_unreachable_and_malformed_endpoints_give_device_errors():
    src = ZmqSource(f"tcp://{_addr()}", "pull", connect_timeout=0.3)
    with pytest.raises(DeviceError, match="no data"):
        list(src.generate())
    src.close()
    a = _addr()
    first = ZmqSink(f"tcp://{a}", "push")
    with pytest.raises(DeviceError, match="cannot bind"):
        ZmqSink(f"tcp://{a}", "push")
    first.close()
    for bad in ("zmq+sub://localhost", "zmq+sub://127.0.0.1:99999", "zmq+sub://h:x"):
        with pytest.raises(ConfigError, match="HOST:PORT"):
            open_source(bad)
    for opt in ("hwm='abc'", "hwm='--5'", "hwm='-5'", "timeout='-1'", "timeout='nan'"):
        key, value = opt.split("=")
        with pytest.raises(ConfigError, match=f"{opt}; allowed"):
            open_source(f"zmq+sub://127.0.0.1:5555?{key}={value.strip(chr(39))}")
    with pytest.raises(Exception, match="cannot be a source"):
        open_source(f"zmq+pub://{a}")


def test_push_sink_without_peer_applies_backpressure_and_stops_cleanly():
    snk = ZmqSink(f"tcp://{_addr()}", "push", hwm=2)
    g = Flowgraph()
    big = VectorSource(np.zeros(10_000_000, np.complex64), 10_000)
    g.connect(big, snk)
    g.start()
    time.sleep(0.5)
    g.stop()
    g.wait()
    assert g.stats()["blocks"][snk.name]["items_in"] < 1_000_000
    assert not [t for t in threading.enumerate() if t.name.startswith("sdrcast-")]


def test_malformed_tag_header_is_skipped_and_counted_and_lost_items_counted():
    """Issue 11 item 9: one bad header must not end the stream (it did: struct.error); a jump
    in the header's item offset (PUB/SUB dropped messages) is counted as items_lost."""
    a = _addr()
    ctx = zmq.Context.instance()
    push = ctx.socket(zmq.PUSH)
    push.bind(f"tcp://{a}")
    src = ZmqSource(f"tcp://{a}", "pull", pass_tags=True, idle_timeout=0.5)
    x = np.arange(30, dtype=np.complex64)
    push.send(encode_tag_header(0, []) + x[:10].tobytes())
    push.send(struct.pack("<HBQQ", 0x5FF0, 1, 10, 3) + b"\x00\x01")  # 3 tags announced, none there
    push.send(encode_tag_header(20, [Tag(0, "k", 1)]) + x[20:30].tobytes())  # 10 items lost
    got = list(src.generate())
    src.close()
    push.close(0)
    data = np.concatenate([c.data for c in got])
    np.testing.assert_array_equal(data, np.concatenate([x[:10], x[20:30]]))
    assert src.counters["bad_messages"] == 1 and src.counters["items_lost"] == 10
    assert [t.offset for c in got for t in c.tags] in ([10], [0])  # one chunk, or two


def test_only_malformed_headers_name_the_pass_tags_mismatch():
    from sdrcast.errors import SdrcastError

    a = _addr()
    ctx = zmq.Context.instance()
    push = ctx.socket(zmq.PUSH)
    push.bind(f"tcp://{a}")
    src = ZmqSource(f"tcp://{a}", "pull", pass_tags=True, idle_timeout=0.5)
    for _ in range(ZmqSource.MISMATCH_AFTER):
        push.send(np.zeros(100, np.complex64).tobytes())
    with pytest.raises(SdrcastError, match="pass_tags"):
        list(src.generate())
    src.close()
    push.close(0)
