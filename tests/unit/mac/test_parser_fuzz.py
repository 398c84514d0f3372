"""Every parser of received data returns or raises ParseError on random input (issue 11,
item 14); benchmarks/fuzz.py runs the same targets 20,000+ times each."""
import numpy as np
import pytest

from sdrcast.analysis.fuzzing import TARGETS, run
from sdrcast.errors import ParseError


@pytest.mark.parametrize("name", list(TARGETS))
def test_random_input_is_accepted_or_rejected_with_parse_error(name):
    res = run(1500, seed=11, targets={name: TARGETS[name]})[name]
    assert res["escaped"] == 0, res["examples"]
    assert res["accepted"] + res["rejected"] == 1500


def test_the_fuzzing_harness_sees_escapes():
    def broken(rng):
        raise IndexError("a parser bug")

    assert run(5, targets={"broken": broken})["broken"]["escaped"] == 5


def test_short_baseband_packets_are_counted_not_raised():
    from sdrcast.mac.atsc3.baseband import BasebandDepacketizer, payload

    with pytest.raises(ParseError, match="too short"):
        payload(np.array([0x80, 0x01], np.uint8))
    d = BasebandDepacketizer()
    d.push(np.array([[0x80, 0x03]], np.uint8), np.array([True]))
    assert d.counters["packets_bad"] == 1


def test_depacketizer_joining_a_stream_starts_at_the_first_pointer():
    """Joining mid-stream, the bytes before the first pointer belong to an ALP packet whose
    start was never seen: they are skipped, never decapsulated into invented packets."""
    from sdrcast.mac.atsc3.baseband import BasebandDepacketizer

    pkt = np.zeros(20, np.uint8)
    pkt[0] = 5  # MODE=0, pointer 5
    pieces = BasebandDepacketizer().push(pkt[None, :], np.array([True]))
    assert len(pieces) == 1 and pieces[0][0].size == 19 - 5 and pieces[0][1] and pieces[0][2] == 0


def test_corrupt_pcap_record_length_is_an_error_not_a_silent_end(tmp_path):
    import struct

    from sdrcast.mac.ip import udp_datagram
    from sdrcast.runtime import run_block
    from sdrcast.sdr_io.payload import PcapSource, write_pcap

    grams = [udp_datagram(b"x" * 100, ("10.0.0.1", 1), ("239.1.1.1", 2), ident=i) for i in range(5)]
    write_pcap(tmp_path / "a.pcap", grams)
    raw = bytearray((tmp_path / "a.pcap").read_bytes())
    rec = 24 + 2 * (16 + len(grams[0]))  # the third record's header (raw IP)
    struct.pack_into("<I", raw, rec + 8, 0x7FFFFFFF)
    (tmp_path / "b.pcap").write_bytes(bytes(raw))
    with pytest.raises(ParseError, match="record 2 at byte"):
        run_block(PcapSource(tmp_path / "b.pcap"))
