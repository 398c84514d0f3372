"""ALP encapsulation and baseband packets: round trips (hypothesis), byte layouts from the
tables' worked examples, and clear refusals."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdrcast.errors import ConfigError
from sdrcast.mac.atsc3.alp import Decapsulator, IpEncapsulator, TsEncapsulator, concat_packets, ipv4_packet
from sdrcast.mac.atsc3.baseband import BasebandPacketizer, header, payload
from sdrcast.mac.ip import checksum_ok, split_datagrams, udp_datagram
from sdrcast.mac.ts import null_packets, sample_stream


def _strip_null_cc(x):
    x = x.reshape(-1, 188).copy()
    null = ((x[:, 1].astype(int) & 0x1F) << 8 | x[:, 2]) == 0x1FFF
    x[null, 3] = 0  # restored null packets carry their own continuity counters
    return x


@st.composite
def ts_streams(draw):
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            parts.append(null_packets(draw(st.integers(1, 300))))
        else:
            parts.append(sample_stream(draw(st.integers(1, 40)), seed=draw(st.integers(0, 99))))
    return np.concatenate(parts)


@settings(max_examples=40, deadline=None)
@given(ts=ts_streams(), numts=st.integers(1, 16), nulls=st.booleans(), hdm=st.booleans(),
       k_bytes=st.sampled_from([249, 519, 4836]), cut=st.integers(1, 5000))
def test_ts_through_alp_and_baseband_packets_and_back(ts, numts, nulls, hdm, k_bytes, cut):
    enc = TsEncapsulator(numts, nulls, hdm)
    bb = BasebandPacketizer(8 * k_bytes)
    pkts = []
    for piece in (ts[:cut], ts[cut:]):  # cut anywhere, even mid-packet
        a, s = enc.push(piece)
        pkts.append(bb.push(a, s))
    a, s = enc.flush()
    pkts += [bb.push(a, s), bb.flush()]
    pkts = np.concatenate(pkts)
    assert pkts.shape[1] == k_bytes
    # reassemble: the pointer of the first packet is 0, payloads concatenate to the ALP stream
    assert payload(pkts[0])[1] == 0
    alp = np.concatenate([payload(p)[0] for p in pkts])
    back, _ = Decapsulator().push(alp)
    np.testing.assert_array_equal(_strip_null_cc(back), _strip_null_cc(ts))


def test_pointer_marks_the_first_alp_packet_starting_in_each_packet():
    alp, starts = concat_packets([np.full(300, i, np.uint8) for i in range(5)])
    out = BasebandPacketizer(8 * 202).push(alp, starts)  # 200 payload bytes each
    ptrs = [payload(p)[1] for p in out]
    assert ptrs == [0, 100, 8191, 0, 100, 8191, 0]  # ALP starts at 0, 300, 600, 900, 1200


def test_header_layouts_match_the_tables_examples():
    np.testing.assert_array_equal(header(300, 9)[:4], [0xAC, 0x0A, 0xE7, 0x00])  # 7 pad bytes
    assert header(300, 7).size == 2 + 7 and header(5, 1).tolist() == [0x85, 0x01, 0xE0]
    np.testing.assert_array_equal(header(0), [0x80, 0x00])


def test_gr_atsc3_ts_encapsulation_bytes():
    ts = np.concatenate([null_packets(3), sample_stream(1)])
    alp, _ = TsEncapsulator().push(ts)
    assert alp[:2].tolist() == [0xE3, 0x03] and alp.size == 2 + 187  # DNP 3, then the packet
    alp, _ = TsEncapsulator().push(sample_stream(1))
    assert alp[0] == 0xE2 and alp.size == 188


def test_ipv4_packets_and_refusals():
    dgram = np.zeros(1500, np.uint8)
    dgram[0] = 0x45
    p = ipv4_packet(dgram)
    assert p[:2].tolist() == [0x05, 0xDC] and p.size == 1502
    with pytest.raises(ConfigError, match="2047"):
        ipv4_packet(np.full(3000, 0x45, np.uint8))
    with pytest.raises(ConfigError, match="version"):
        ipv4_packet(np.full(100, 0x60, np.uint8))
    with pytest.raises(ConfigError, match="sync byte"):
        TsEncapsulator().push(np.ones(188, np.uint8))


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(0, 2100), min_size=1, max_size=12),
       k_bytes=st.sampled_from([249, 519, 4836]), seed=st.integers(0, 99))
def test_ip_through_alp_and_baseband_packets_and_back(sizes, k_bytes, seed):
    rng = np.random.default_rng(seed)
    grams = [udp_datagram(rng.integers(0, 256, n, np.uint8).tobytes(), ("10.0.0.1", 4000),
                          ("239.1.1.1", 5000), ident=i) for i, n in enumerate(sizes)]
    enc, bb = IpEncapsulator(), BasebandPacketizer(8 * k_bytes)
    pkts = [bb.push(*enc.push(np.frombuffer(b"".join(grams[:2]), np.uint8)))]
    pkts += [bb.push(*enc.push(np.frombuffer(g, np.uint8))) for g in grams[2:]]
    pkts = np.concatenate(pkts + [bb.flush()])
    alp = np.concatenate([payload(p)[0] for p in pkts]) if len(pkts) else np.zeros(0, np.uint8)
    ts, back = Decapsulator().push(alp)
    kept = [g for g in grams if len(g) <= 2047]  # longer ones are dropped and counted
    assert ts.size == 0 and [b.tobytes() for b in back] == kept
    assert enc.counters["datagrams_too_long"] == len(grams) - len(kept)
    assert all(checksum_ok(g) for g in kept)


def test_udp_datagram_layout_and_split():
    g = udp_datagram(b"abc", ("192.168.1.2", 1234), ("239.1.1.1", 5000), ttl=7)
    assert len(g) == 31 and g[0] == 0x45 and g[8] == 7 and g[9] == 17
    assert g[16:20] == bytes([239, 1, 1, 1]) and g[22:24] == (5000).to_bytes(2, "big")
    assert checksum_ok(g) and not checksum_ok(g[:11] + bytes([g[11] ^ 1]) + g[12:])
    grams, left = split_datagrams(np.frombuffer(g + g + g[:10], np.uint8))
    assert [x.tobytes() for x in grams] == [g, g] and left == 10
