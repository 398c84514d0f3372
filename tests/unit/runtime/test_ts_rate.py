"""TsRateAdapter: live TS paced to a transmitter's capacity by the clock."""
import numpy as np

from sdrcast.mac.ts import TS_PACKET, null_packets, pids, sample_stream
from sdrcast.mac.ts_rate import TsRateAdapter


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_slow_input_is_stuffed_with_null_packets_to_the_exact_rate():
    clock = Clock()
    rate = 100 * 8 * TS_PACKET  # 100 packets a second
    a = TsRateAdapter(rate, clock=clock)
    data = sample_stream(30, seed=1)  # 30 packets arrive, 100 are due in the second
    out = [a.release(data)]
    for i in range(10):
        clock.t = (i + 1) / 10
        out.append(a.release(np.zeros(0, np.uint8)))
    out = np.concatenate(out)
    assert out.size == 100 * TS_PACKET
    np.testing.assert_array_equal(out[:data.size], data)  # order kept
    assert (pids(out[data.size:]) == 0x1FFF).all()
    assert a.counters["null_packets_stuffed"] == 70


def test_fast_input_beyond_the_backlog_is_dropped_and_counted():
    clock = Clock()
    a = TsRateAdapter(100 * 8 * TS_PACKET, max_backlog_s=0.5, clock=clock)
    a.release(sample_stream(200, seed=2))  # 2 s of input at once; 0.5 s may wait
    assert a.counters["ts_packets_dropped"] == 150
    clock.t = 0.5
    out = a.release(np.zeros(0, np.uint8))
    assert out.size == 50 * TS_PACKET and "null_packets_stuffed" not in a.counters
    np.testing.assert_array_equal(out, sample_stream(200, seed=2)[150 * TS_PACKET:])


def test_null_packets_are_counted_only_when_due():
    clock = Clock()
    a = TsRateAdapter(10 * 8 * TS_PACKET, clock=clock)
    assert a.release(null_packets(0)).size == 0
    clock.t = 0.05  # half a packet due: nothing yet
    assert a.release(null_packets(0)).size == 0 and not a.counters
