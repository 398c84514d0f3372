"""The receivers' input buffer: what goes in comes out at its absolute index, whatever the
pattern of appends and drops."""
import numpy as np

from sdrcast.phy.sample_buffer import SampleBuffer


def test_appends_and_drops_keep_every_sample_at_its_absolute_index(rng):
    buf = SampleBuffer()
    stream = (rng.standard_normal(2_000_000) + 1j * rng.standard_normal(2_000_000)).astype(np.complex64)
    at = 0
    while at < stream.size:
        n = int(rng.integers(1, 200_000))
        buf.append(stream[at:at + n])
        at = min(at + n, stream.size)
        assert buf.end == at
        np.testing.assert_array_equal(buf.view, stream[buf.start:at])
        buf.drop_before(int(rng.integers(buf.start, at + 1)))
    buf.drop_before(10 ** 9)  # beyond the end: everything dropped, nothing invented
    assert buf.view.size == 0 and buf.start == buf.end == stream.size


def test_storage_stays_bounded_by_what_is_held():
    buf = SampleBuffer()
    for _ in range(500):
        buf.append(np.ones(10_000, np.complex64))
        buf.drop_before(buf.end - 50_000)
    assert buf.allocated <= 4 * 60_000
