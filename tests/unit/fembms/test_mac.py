"""FeMBMS link layer: MCH MAC PDUs and RLC UM parse what they pack (property tests), the
padding rules, and the scheduler's promises (MSI first, every packet out, nothing split across
a scheduling period)."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sdrcast.mac.fembms import mch
from sdrcast.mac.fembms.rlc import RlcUmRx, RlcUmTx, parse
from sdrcast.mac.fembms.scheduler import MchScheduler

element = st.tuples(st.sampled_from([0, 1, 2, 5, 28, mch.LCID_MSI]), st.binary(min_size=1, max_size=400))


@given(st.lists(element, max_size=5), st.integers(0, 40))
def test_mac_pdu_unpacks_to_what_was_packed(elements, spare):
    size = sum(len(p) + 3 for _, p in elements) + 1 + spare
    pdu = mch.pack(elements, size)
    assert len(pdu) == size
    assert mch.unpack(pdu).elements == elements


def test_padding_of_one_or_two_bytes_goes_first():
    pdu = mch.pack([(2, bytes(10))], 1 + 10 + 2)  # two spare bytes: two padding subheaders first
    assert pdu[:3] == bytes([0x3F, 0x3F, 0x02])
    pdu = mch.pack([(2, bytes(10))], 20)  # more: one padding subheader last
    assert pdu[:3] == bytes([0x22, 10, 0x1F])


@given(st.lists(st.binary(min_size=1, max_size=3000), min_size=1, max_size=8), st.integers(3, 700))
def test_rlc_reassembles_what_it_segments(sdus, size):
    tx, rx, out, n = RlcUmTx(), RlcUmRx(), [], 0
    for s in sdus:
        tx.push(s)
    while tx.pending:
        pdu = tx.pull(size)
        assert len(pdu) <= size and parse(pdu)[1] == n % 32  # SNs count up, modulo 32
        n += 1
        out += rx.push(pdu)
    assert out == sdus and rx.lost == rx.dropped == 0 and tx.pending == 0


def test_rlc_counts_a_lost_pdu_and_drops_its_sdu():
    """100 bytes in PDUs of 39 + 39 + 22, then 50 bytes in 39 + 11; the second PDU lost: the
    first SDU's start and its orphaned last segment are dropped, the second SDU arrives."""
    tx, rx = RlcUmTx(), RlcUmRx()
    tx.push(bytes(100))
    tx.push(bytes(range(50)))
    pdus = [tx.pull(40) for _ in range(5)]
    out = []
    for i, p in enumerate(pdus):
        if i != 1:
            out += rx.push(p)
    assert out == [bytes(range(50))] and rx.lost == 1 and rx.dropped == 2


def test_scheduler_msi_first_and_nothing_split_across_a_period():
    """A small carrier (1.4 MHz-like 117-byte blocks) and 1400-byte packets: every packet comes
    out, and each period starts with the MSI and RLC SN 0 on a fresh SDU."""
    period = 78  # MCH subframes of rf8
    s = MchScheduler(ends=[period - 1], lcids=[[3]], tbs=[117], signalling_tbs=40, data_start=4)
    rng = np.random.default_rng(0)
    packets = [rng.integers(0, 256, int(rng.integers(300, 1400)), np.uint8).tobytes() for _ in range(20)]
    for p in packets:
        s.push(3, p)
    rx, out, period_starts = RlcUmRx(), [], []
    for n in range(6 * period):
        sub = s.subframe(n % period)
        elements = mch.unpack(sub.pdu).elements
        if n % period == 0:
            assert elements[0][0] == mch.LCID_MSI and sub.signalling
            rx.reset()
        first = next((b for lcid, b in elements if lcid == 3), None)
        if first is not None and n % period == 4:
            period_starts.append(parse(first)[:2])
        out += [x for lcid, b in elements if lcid == 3 for x in rx.push(b)]
    assert out == packets and rx.dropped == 0
    assert all(fi in (0, 1) and sn == 0 for fi, sn in period_starts)  # FI 00/01: an SDU's start
