"""ETSI TR 101 290 checks (mac/ts/tr101290.py) and PSI (mac/ts/psi.py): a clean program
stream raises nothing; each error injected is found once, at the time it happened, and
nothing else fires; PSI round trips and reassembly across any packetisation (issue 14)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdrcast.errors import ParseError
from sdrcast.mac.ts import TS_PACKET, pids, psi
from sdrcast.mac.ts.mux import ProgramMux
from sdrcast.mac.ts.tr101290 import INDICATORS, TsAnalyzer

RATE = 4e6
DT = TS_PACKET * 8 / RATE  # one packet's time at the stream's rate
VIDEO, AUDIO, PMT_PID = 0x100, 0x101, 0x1000


def stream(seconds: float = 3.0) -> np.ndarray:
    return ProgramMux(RATE).seconds(seconds).reshape(-1, TS_PACKET).copy()


def analyse(ts: np.ndarray, chunk: int = 331, **kw) -> tuple[TsAnalyzer, list]:
    """Feed in chunks, each packet at its place at the stream's rate."""
    a, events = TsAnalyzer(**kw), []
    for i in range(0, len(ts), chunk):
        c = ts[i:i + chunk]
        events += a.feed(c, i * DT, (i + len(c)) * DT)
    return a, events


def renumber(ts: np.ndarray, pid: int) -> np.ndarray:
    """Continuity counters of ``pid`` made continuous again (after packets were taken out,
    as a multiplexer that stopped sending them would number them)."""
    rows = np.flatnonzero(pids(ts) == pid)
    ts[rows, 3] = (ts[rows, 3] & 0xF0) | (np.arange(rows.size) & 0x0F)
    return ts


def times(n: int) -> np.ndarray:
    return np.arange(n) * DT


@pytest.mark.parametrize("chunk", [1, 7, 331, 100000])
def test_a_clean_program_stream_raises_nothing_and_its_tables_are_found(chunk):
    a, events = analyse(stream(), chunk)
    assert events == [] and sum(a.counts.values()) == 0
    s = a.summary()
    assert s["programs"] == {1: {"pcr_pid": VIDEO, "streams": [{"pid": VIDEO, "type": "H.264 video"},
                                                               {"pid": AUDIO, "type": "AAC audio"}]}}
    assert s["services"] == {1: {"provider": "sdrcast", "name": "sdrcast test"}}
    assert s["tables"]["PAT"] == 30 and s["tables"]["SDT"] == 3 and s["parse_errors"] == 0


def _only(events, indicator):
    assert [e.indicator for e in events] == [indicator], events
    return events[0]


def test_one_corrupted_sync_byte_is_one_sync_byte_error_and_not_a_sync_loss():
    ts = stream()
    ts[1000, 0] = 0x46
    e = _only(analyse(ts)[1], "Sync_byte_error")
    assert e.time == pytest.approx(1000 * DT)


def test_two_corrupted_sync_bytes_lose_sync_once_and_it_comes_back():
    ts = stream()
    ts[1000:1002, 0] = 0x00
    a, events = analyse(ts)
    # the two packets are lost to the analyser, so their PID's counter jumps after them
    assert [e.indicator for e in events] == ["Sync_byte_error", "Sync_byte_error", "TS_sync_loss",
                                             "Continuity_count_error"]
    assert events[2].time == pytest.approx(1001 * DT) and a.synced  # 5 good bytes later


def test_a_continuity_counter_jump_is_one_error_on_its_pid_at_its_time():
    ts = stream()
    video = np.flatnonzero(pids(ts) == VIDEO)
    gone = video[500]
    ts = np.delete(ts, gone, axis=0)
    e = _only(analyse(ts)[1], "Continuity_count_error")
    assert e.pid == VIDEO and e.time == pytest.approx(gone * DT) and "1 packets missing" in e.detail


def test_one_duplicate_packet_is_allowed_and_two_are_an_error():
    ts = stream()
    video = np.flatnonzero(pids(ts) == VIDEO)
    once = np.insert(ts, video[300] + 1, ts[video[300]], axis=0)
    assert analyse(once)[1] == []
    twice = np.insert(once, video[300] + 1, ts[video[300]], axis=0)
    assert _only(analyse(twice)[1], "Continuity_count_error").pid == VIDEO


def test_a_pat_missing_for_more_than_half_a_second_is_one_pat_error_at_the_deadline():
    ts = stream()
    t = times(len(ts))
    pat = pids(ts) == 0
    last = t[pat & (t < 1.0)].max()
    ts = renumber(ts[~(pat & (t > 1.0) & (t < 1.8))], 0)
    e = _only(analyse(ts)[1], "PAT_error")
    assert e.time == pytest.approx(last + 0.5, abs=DT)


def test_a_missing_pmt_is_one_pmt_error_on_its_pid():
    ts = stream()
    t = times(len(ts))
    pmt = pids(ts) == PMT_PID
    last = t[pmt & (t < 1.0)].max()
    ts = renumber(ts[~(pmt & (t > 1.0) & (t < 2.2))], PMT_PID)
    e = _only(analyse(ts)[1], "PMT_error")
    assert e.pid == PMT_PID and e.time == pytest.approx(last + 0.5, abs=DT)


def test_a_pid_disappearing_is_one_pid_error_after_the_timeout():
    ts = stream(4.0)
    t = times(len(ts))
    audio = pids(ts) == AUDIO
    last = t[audio & (t < 1.0)].max()
    a, events = analyse(ts[~(audio & (t >= 1.0))], pid_timeout_s=1.0)
    e = _only(events, "PID_error")
    assert e.pid == AUDIO and e.time == pytest.approx(last + 1.0, abs=DT)


def test_a_pid_that_comes_back_can_fail_again():
    ts = stream(5.0)
    t = times(len(ts))
    audio = pids(ts) == AUDIO
    gaps = audio & (((t > 0.5) & (t < 2.0)) | ((t > 3.0) & (t < 4.5)))
    events = analyse(renumber(ts[~gaps], AUDIO), pid_timeout_s=1.0)[1]
    assert [e.indicator for e in events] == ["PID_error", "PID_error"]


def test_transport_error_indicator_is_a_priority_2_transport_error():
    ts = stream()
    audio = np.flatnonzero(pids(ts) == AUDIO)[40]
    ts[audio, 1] |= 0x80
    events = analyse(ts)[1]
    assert [e.indicator for e in events][0] == "Transport_error" and events[0].priority == 2
    # its payload is not trusted, so the next audio packet's counter looks like a jump
    assert [e.indicator for e in events] == ["Transport_error", "Continuity_count_error"]


def test_a_pat_with_a_bad_crc_is_a_crc_error():
    ts = stream()
    first_pat = np.flatnonzero(pids(ts) == 0)[3]
    ts[first_pat, 12] ^= 0xFF  # inside the section
    e = _only(analyse(ts)[1], "CRC_error")
    assert e.pid == 0


def test_pcr_gaps_and_jumps():
    ts = stream()
    video = np.flatnonzero(pids(ts) == VIDEO)
    pcr = video[(ts[video, 3] & 0x20) != 0]  # the video packets with an adaptation field
    gap = ts.copy()
    gap[pcr[10], 5] &= 0xEF  # one PCR left out: 60 ms between two
    e = _only(analyse(gap)[1], "PCR_repetition_error")
    assert e.time == pytest.approx(pcr[11] * DT)
    jump = ts.copy()
    jump[pcr[10:], 6] ^= 0x01  # the PCR base jumps by 2^25 ticks (373 s) from here on
    assert [e.indicator for e in analyse(jump)[1]] == ["PCR_discontinuity_indicator_error"]


def test_scrambled_packets_without_a_cat_are_a_cat_error():
    ts = stream()
    video = np.flatnonzero(pids(ts) == VIDEO)
    ts[video[100:110], 3] |= 0x80  # transport_scrambling_control 10
    assert [e.indicator for e in analyse(ts)[1]] == ["CAT_error"]


def test_timeouts_fire_without_packets_too():
    a = TsAnalyzer()
    a.feed(stream(0.2), 0.0, 0.2)
    assert [e.indicator for e in a.advance(0.55)] == []  # the last PAT and PMT came at 0.1 s
    assert [e.indicator for e in a.advance(0.7)] == ["PAT_error", "PMT_error"]
    assert a.advance(5.0) == []  # once, until they come back


def test_every_indicator_is_counted_in_the_summary():
    a, _ = analyse(stream(0.5))
    assert set(a.summary()["counts"]) == set(INDICATORS)


# -- PSI -------------------------------------------------------------------------------------
programs = st.dictionaries(st.integers(1, 0xFFFF), st.integers(0x10, 0x1FFE), min_size=1, max_size=30)


@given(programs, st.integers(0, 0xFFFF), st.integers(0, 31))
def test_pat_round_trip(progs, tsid, version):
    s = psi.parse_section(psi.pat(tsid, progs, version))
    assert s.crc_ok and s.extension == tsid and s.version == version and psi.parse_pat(s) == progs


@given(st.integers(1, 0xFFFF), st.integers(0x10, 0x1FFE),
       st.lists(st.tuples(st.integers(0, 255), st.integers(0x10, 0x1FFE)), max_size=30))
def test_pmt_round_trip(program, pcr, streams):
    m = psi.parse_pmt(psi.parse_section(psi.pmt(program, pcr, streams)))
    assert (m.program, m.pcr_pid, list(m.streams)) == (program, pcr, streams)


@given(st.dictionaries(st.integers(0, 0xFFFF), st.tuples(st.text("abcxyz -", max_size=20),
                                                          st.text("ABC123 ", max_size=30)), max_size=5))
def test_sdt_round_trip(services):
    assert psi.parse_sdt(psi.parse_section(psi.sdt(1, 2, services))) == services


@settings(max_examples=200)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=6), st.data())
def test_sections_reassemble_across_any_packetisation(kinds, data):
    """Sections back to back, cut into payloads of any sizes; a payload in which a section
    starts begins with the pointer_field to the first (as ISO/IEC 13818-1 packs them): the
    assembler gives back every section whole."""
    samples = {1: psi.pat(1, {1: 0x1000}), 2: psi.pmt(1, 0x100, [(0x1B, 0x100)] * 20),
               3: psi.sdt(1, 1, {1: ("p", "n" * 100)})}
    secs = [samples[k] for k in kinds]
    blob = b"".join(secs)
    starts = np.cumsum([0] + [len(x) for x in secs[:-1]])
    asm, out, i = psi.SectionAssembler(), [], 0
    while i < len(blob):
        n = data.draw(st.integers(1, 183))
        inside = starts[(starts >= i) & (starts < i + n)]
        if inside.size:
            out += asm.feed(bytes([inside[0] - i]) + blob[i:i + n], True)
        else:
            out += asm.feed(blob[i:i + n], False)
        i += n
    assert out == secs


def test_section_readers_name_the_field():
    with pytest.raises(ParseError, match="section_length"):
        psi.parse_section(b"\x00\xb0\x20\x00")
    with pytest.raises(ParseError, match="PAT"):
        psi.parse_pat(psi.parse_section(psi.pmt(1, 0x100, [])))
    with pytest.raises(ParseError, match="pointer_field"):
        psi.SectionAssembler().feed(b"\x50\x00", True)
