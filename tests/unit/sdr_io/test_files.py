import json

import numpy as np
import pytest

from sdrcast.errors import ConfigError, DeviceError
from sdrcast.runtime import Chunk, Flowgraph, Tag, VectorSink, run_block
from sdrcast.runtime.testing import flatten
from sdrcast.sdr_io import open_sink, open_source, read_samples, write_samples
from sdrcast.sdr_io.files import FileSink, FileSource, decode_samples, encode_samples

FULL_SCALE = {"cs16": 1 / 32768, "cs8": 1 / 128, "cu8": 1 / 128}


@pytest.fixture
def iq(rng):
    return ((rng.standard_normal(5000) + 1j * rng.standard_normal(5000)) * 0.2).astype(np.complex64)


@pytest.mark.parametrize("fmt", ["cf32", "cs16", "cs8", "cu8"])
def test_raw_round_trip_within_quantisation(tmp_path, iq, fmt):
    path = tmp_path / f"x.{fmt}"
    write_samples(path, iq)
    got, meta = read_samples(path)
    assert meta.format == fmt and got.dtype == np.complex64 and got.size == iq.size
    tol = 1e-7 if fmt == "cf32" else FULL_SCALE[fmt]
    np.testing.assert_allclose(got, iq, atol=tol)


def test_integer_formats_clip_and_count():
    raw, clipped = encode_samples(np.array([0.5, 2.0, -3j, 0.1], np.complex64), "cs16")
    assert clipped == 2
    np.testing.assert_allclose(decode_samples(raw, "cs16")[[1, 2]], [32767 / 32768, -1j])


def test_known_raw_layouts():
    np.testing.assert_array_equal(decode_samples(bytes([0, 0x80, 0xFF, 0x7F]), "cs8"),
                                  np.array([0 - 1j, -1 / 128 + 127j / 128], np.complex64))
    np.testing.assert_allclose(decode_samples(bytes([0, 255]), "cu8"), [-127.5 / 128 + 127.5j / 128])
    raw = np.array([1, -2], np.int16).tobytes()
    np.testing.assert_allclose(decode_samples(raw, "cs16"), [1 / 32768 - 2j / 32768])


def test_sigmf_round_trip_with_metadata_and_annotations(tmp_path, iq):
    write_samples(tmp_path / "rec.sigmf-data", iq, 6.912e6, 593e6,
                  annotations=[(100, {"core:label": "frame_start", "core:comment": "0"})])
    meta_json = json.loads((tmp_path / "rec.sigmf-meta").read_text())
    assert meta_json["global"]["core:datatype"] == "cf32_le"
    assert meta_json["global"]["core:sample_rate"] == 6.912e6
    assert meta_json["captures"][0]["core:frequency"] == 593e6
    assert "core:datetime" in meta_json["captures"][0]
    got, meta = read_samples(tmp_path / "rec.sigmf-meta")
    np.testing.assert_array_equal(got, iq)
    assert meta.sample_rate == 6.912e6 and meta.center_freq == 593e6
    assert meta.annotations[0]["core:sample_start"] == 100


def test_sigmf_sink_annotates_frame_starts_from_tags(tmp_path, iq):
    sink = FileSink(tmp_path / "tx.sigmf-data", sample_rate=1e6, center_freq=1e8)
    chunks = [Chunk(iq[:3000], [Tag(0, "frame_start", 0), Tag(2500, "frame_start", 1)]),
              Chunk(iq[3000:], [Tag(1000, "frame_start", 2), Tag(5, "other", 9)])]
    run_block(sink, chunks)
    _, meta = read_samples(tmp_path / "tx.sigmf-meta")
    assert [a["core:sample_start"] for a in meta.annotations] == [0, 2500, 4000]
    src = FileSource(tmp_path / "tx.sigmf-data", chunk_size=1000)
    out = flatten(run_block(src))
    np.testing.assert_array_equal(out.data, iq)
    assert [t.offset for t in out.tags if t.key == "frame_start"] == [0, 2500, 4000]
    assert src.sample_rate == 1e6


def test_file_source_chunks_and_repeat(tmp_path, iq):
    write_samples(tmp_path / "a.cs16", iq)
    out = run_block(FileSource(tmp_path / "a.cs16", chunk_size=1024))
    assert [len(c) for c in out][:4] == [1024] * 4 and sum(map(len, out)) == iq.size
    g = Flowgraph()
    from sdrcast.runtime import Head

    sink = VectorSink()
    g.connect(FileSource(tmp_path / "a.cs16", chunk_size=999, repeat=True), Head(12_345), sink)
    g.run()
    assert len(sink.result()) == 12_345


def test_trailing_partial_sample_is_counted_not_hidden(tmp_path):
    (tmp_path / "odd.cs16").write_bytes(b"\x01\x00\x02\x00\x03")
    src = FileSource(tmp_path / "odd.cs16")
    assert sum(map(len, run_block(src))) == 1
    assert src.counters["trailing_bytes_dropped"] == 1


def test_bad_paths_and_formats_give_clear_errors(tmp_path):
    with pytest.raises(DeviceError, match="does not exist"):
        read_samples(tmp_path / "missing.cf32")
    with pytest.raises(ConfigError, match="extension"):
        open_source(str(tmp_path / "x.bin"))
    with pytest.raises(ConfigError, match="format='cf64'"):
        open_sink(str(tmp_path / "x.bin"), fmt="cf64")
    with pytest.raises(DeviceError, match="cannot write"):
        open_sink(str(tmp_path / "no" / "dir" / "x.cf32"))


def test_file_to_file_through_flowgraph(tmp_path, iq):
    write_samples(tmp_path / "in.sigmf-data", iq, 2e6, 1e9)
    src = open_source(str(tmp_path / "in.sigmf-data"), chunk_size=700)
    snk = open_sink(str(tmp_path / "out.cs8"), sample_rate=src.sample_rate)
    Flowgraph().connect(src, snk).run()
    got, _ = read_samples(tmp_path / "out.cs8")
    np.testing.assert_allclose(got, iq, atol=1 / 128)
