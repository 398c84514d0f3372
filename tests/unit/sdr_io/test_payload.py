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


def test_udp_ip_input_rebuilds_the_datagrams():
    import socket

    from sdrcast.mac.ip import checksum_ok, split_datagrams

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = open_source(f"udp://127.0.0.1:{port}", kind="ip", timeout=0.5)
    out = VectorSink()
    g = Flowgraph().connect(src, out)
    g.start()
    time.sleep(0.1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        tx.bind(("127.0.0.1", 0))
        for n in (10, 1400):
            tx.sendto(bytes(range(256)) * (n // 256) + bytes(n % 256), ("127.0.0.1", port))
        sport = tx.getsockname()[1]
    g.wait()
    grams, left = split_datagrams(out.result().data)
    assert left == 0 and [g.size for g in grams] == [38, 1428]
    for d in grams:
        assert checksum_ok(d.tobytes()) and d[9] == 17
        assert d[12:16].tolist() == [127, 0, 0, 1] and d[16:20].tolist() == [127, 0, 0, 1]
        assert (int(d[20]) << 8 | int(d[21])) == sport and (int(d[22]) << 8 | int(d[23])) == port
    with pytest.raises(ConfigError, match="address the datagrams are sent to"):
        open_source(f"udp://:{port}", kind="ip")


def test_pcap_input(tmp_path):
    import struct

    from sdrcast.mac.ip import split_datagrams, udp_datagram
    from sdrcast.sdr_io.payload import write_pcap

    grams = [udp_datagram(bytes([i]) * (i * 50), ("10.0.0.1", 1), ("239.0.0.1", 2)) for i in range(5)]
    write_pcap(tmp_path / "raw.pcap", grams)
    src = open_source(str(tmp_path / "raw.pcap"), kind="ip")
    got, _ = split_datagrams(flatten(run_block(src)).data)
    assert [g.tobytes() for g in got] == grams
    # Ethernet with a VLAN tag, a padded short frame and an ARP record
    eth = tmp_path / "eth.pcap"
    with open(eth, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        recs = [b"\0" * 12 + b"\x81\x00\0\x05\x08\x00" + grams[0] + b"\0" * 6,
                b"\0" * 12 + b"\x08\x06" + b"\0" * 28, b"\0" * 12 + b"\x08\x00" + grams[3]]
        for r in recs:
            f.write(struct.pack("<IIII", 0, 0, len(r), len(r)) + r)
    src = open_source(str(eth), kind="ip")
    got, _ = split_datagrams(flatten(run_block(src)).data)
    assert [g.tobytes() for g in got] == [grams[0], grams[3]]
    assert src.counters["non_ipv4_records"] == 1
    (tmp_path / "ng.pcap").write_bytes(b"\x0a\x0d\x0d\x0a" + bytes(40))
    with pytest.raises(ConfigError, match="pcapng"):
        open_source(str(tmp_path / "ng.pcap"), kind="ip")
    with pytest.raises(ConfigError, match="pcap"):
        open_source(str(tmp_path / "x.ts"), kind="ip")


def test_pcap_input_gets_correct_checksums(tmp_path):
    """Captures taken before checksum offload hold zeros (or garbage) in the IPv4 and UDP
    checksums: they leave the source with both recomputed, counted; correct ones unchanged."""
    from sdrcast.mac.ip import checksum_ok, split_datagrams, udp_datagram
    from sdrcast.sdr_io.payload import write_pcap

    good = [udp_datagram(bytes(range(i, i + 37)), ("192.168.1.7", 40000 + i), ("239.1.2.3", 5000), ident=i)
            for i in range(4)]
    offloaded = [g[:10] + b"\0\0" + g[12:26] + b"\0\0" + g[28:] for g in good[:2]]  # both sums zeroed
    garbage = good[2][:26] + b"\x12\x34" + good[2][28:]  # a wrong UDP sum
    write_pcap(tmp_path / "c.pcap", offloaded + [garbage, good[3]])
    src = open_source(str(tmp_path / "c.pcap"), kind="ip")
    got, _ = split_datagrams(flatten(run_block(src)).data)
    assert [g.tobytes() for g in got] == good
    assert all(checksum_ok(g.tobytes()) for g in got)
    assert src.counters["checksums_rebuilt"] == 3


def test_checksums_of_fragments_and_other_protocols_leave_the_payload_alone():
    from sdrcast.mac.ip import checksum_ok, udp_datagram, with_checksums

    g = bytearray(udp_datagram(b"x" * 20, ("10.0.0.1", 1), ("10.0.0.2", 2)))
    g[6] |= 0x20  # more fragments: the UDP sum covers data not in this piece
    g[26:28] = b"\xab\xcd"
    out = with_checksums(bytes(g))
    assert checksum_ok(out) and out[26:28] == b"\xab\xcd"
    g[9] = 6  # TCP: not recomputed here
    g[6] &= ~0x20
    assert with_checksums(bytes(g))[20:] == bytes(g[20:])
