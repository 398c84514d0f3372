"""Sample files: raw cf32/cs16/cs8/cu8 and SigMF (via the ``sigmf`` package).

Raw formats are interleaved I/Q, little-endian. Integer formats are scaled to complex64 in
[-1, 1): cs16 by 1/32768, cs8 by 1/128, cu8 as (x - 127.5) / 128 (rtl_sdr convention). Writing an
integer format clips at full scale and counts the clipped samples (counter ``clipped``).
"""
from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sdrcast.errors import ConfigError, DeviceError
from sdrcast.runtime.block import Chunk, Sink, Source, Tag

FORMATS = ("cf32", "cs16", "cs8", "cu8")
EXTENSIONS = {".cf32": "cf32", ".fc32": "cf32", ".cfile": "cf32", ".iq": "cf32",
              ".cs16": "cs16", ".sc16": "cs16", ".cs8": "cs8", ".sc8": "cs8", ".cu8": "cu8",
              ".sigmf-data": "sigmf", ".sigmf-meta": "sigmf", ".sigmf": "sigmf"}
SIGMF_DATATYPES = {"cf32_le": "cf32", "ci16_le": "cs16", "ci8": "cs8", "cu8": "cu8"}
_RAW_DTYPE = {"cf32": np.float32, "cs16": np.int16, "cs8": np.int8, "cu8": np.uint8}
_BYTES_PER_SAMPLE = {"cf32": 8, "cs16": 4, "cs8": 2, "cu8": 2}


def format_of(path: str | Path, fmt: str | None = None) -> str:
    """The sample format named by ``fmt`` or by the file's extension."""
    if fmt:
        if fmt not in FORMATS + ("sigmf",):
            raise ConfigError(f"format={fmt!r} is not allowed; choose one of {list(FORMATS) + ['sigmf']}")
        return fmt
    suffix = Path(str(path)).suffix.lower()
    if suffix not in EXTENSIONS:
        raise ConfigError(f"cannot tell the sample format of {str(path)!r} from its extension; "
                          f"use one of {sorted(EXTENSIONS)} or pass --format {{{','.join(FORMATS)}}}")
    return EXTENSIONS[suffix]


def decode_samples(raw: bytes | np.ndarray, fmt: str) -> np.ndarray:
    """Raw interleaved bytes -> complex64."""
    v = np.frombuffer(raw, _RAW_DTYPE[fmt])
    if fmt == "cf32":
        return v.view(np.complex64)
    v = v.astype(np.float32)
    if fmt == "cs16":
        v *= 1 / 32768
    elif fmt == "cs8":
        v *= 1 / 128
    else:
        v = (v - 127.5) * (1 / 128)
    return v.view(np.complex64)


def encode_samples(iq: np.ndarray, fmt: str) -> tuple[bytes, int]:
    """complex64 -> raw interleaved bytes, and the number of samples clipped (integer formats:
    beyond full scale, or NaN/Inf, which are written as 0)."""
    iq = np.ascontiguousarray(iq, np.complex64)
    if fmt == "cf32":
        return iq.tobytes(), 0
    f = iq.view(np.float32)
    bad = ~np.isfinite(f)
    if bad.any():
        f = np.where(bad, np.float32(0), f)
    if fmt == "cs16":
        scaled, lo, hi = f * 32768, -32768, 32767
    elif fmt == "cs8":
        scaled, lo, hi = f * 128, -128, 127
    else:
        scaled, lo, hi = f * 128 + 127.5, 0, 255
    clipped = int(np.count_nonzero(((scaled < lo) | (scaled > hi) | bad).reshape(-1, 2).any(axis=1)))
    out = np.clip(np.rint(scaled), lo, hi).astype(_RAW_DTYPE[fmt])
    return out.tobytes(), clipped


@dataclass
class SampleMeta:
    """What a recording says about itself (SigMF) or what the caller told us (raw)."""

    format: str
    sample_rate: float | None = None
    center_freq: float | None = None
    datetime: str | None = None
    n_samples: int | None = None
    annotations: list[dict] = field(default_factory=list)
    data_path: Path | None = None
    extra: dict = field(default_factory=dict)


def sigmf_paths(path: str | Path) -> tuple[Path, Path]:
    """(``.sigmf-data``, ``.sigmf-meta``) of the recording ``path`` names (either half)."""
    p = Path(str(path))
    stem = p.with_suffix("") if p.suffix in (".sigmf-data", ".sigmf-meta", ".sigmf") else p
    return stem.with_suffix(".sigmf-data"), stem.with_suffix(".sigmf-meta")


def read_meta(path: str | Path, fmt: str | None = None, sample_rate: float | None = None,
              center_freq: float | None = None) -> SampleMeta:
    """Metadata of a sample file; for SigMF from its ``.sigmf-meta``."""
    fmt = format_of(path, fmt)
    if fmt != "sigmf":
        p = Path(str(path))
        if not p.is_file():
            raise DeviceError(f"sample file {str(p)!r} does not exist")
        return SampleMeta(fmt, sample_rate, center_freq, None,
                          p.stat().st_size // _BYTES_PER_SAMPLE[fmt], data_path=p)
    import sigmf

    data, meta = sigmf_paths(path)
    if not meta.is_file():
        raise DeviceError(f"SigMF metadata {str(meta)!r} does not exist")
    try:
        rec = sigmf.sigmffile.fromfile(str(meta), skip_checksum=True)
    except Exception as exc:  # the sigmf package raises several types
        raise DeviceError(f"cannot read SigMF metadata {str(meta)!r}: {exc}") from exc
    dtype = rec.get_global_field(sigmf.DATATYPE_KEY)
    if dtype not in SIGMF_DATATYPES:
        raise ConfigError(f"{str(meta)!r}: SigMF datatype {dtype!r} is not supported; "
                          f"supported: {sorted(SIGMF_DATATYPES)}")
    channels = rec.get_global_field("core:num_channels") or 1
    if channels != 1:
        raise ConfigError(f"{str(meta)!r}: core:num_channels={channels}; sdrcast reads "
                          "single-channel recordings (allowed: 1)")
    caps = rec.get_captures()
    raw_fmt = SIGMF_DATATYPES[dtype]
    n = data.stat().st_size // _BYTES_PER_SAMPLE[raw_fmt] if data.is_file() else 0
    return SampleMeta(raw_fmt, rec.get_global_field(sigmf.SAMPLE_RATE_KEY),
                      caps[0].get(sigmf.FREQUENCY_KEY) if caps else None,
                      caps[0].get(sigmf.DATETIME_KEY) if caps else None, n,
                      list(rec.get_annotations()), data,
                      {k: v for k, v in rec.get_global_info().items()
                       if k in ("core:author", "core:description", "core:hw", "core:recorder")})


def read_samples(path: str | Path, fmt: str | None = None, offset: int = 0,
                 count: int | None = None) -> tuple[np.ndarray, SampleMeta]:
    """Load samples (complex64) and metadata from a raw or SigMF file."""
    meta = read_meta(path, fmt)
    bps = _BYTES_PER_SAMPLE[meta.format]
    if not 0 <= offset < max(meta.n_samples, 1) or (count is not None and count < 1):
        raise ConfigError(f"{str(path)!r}: offset {offset} / count {count} do not fit its "
                          f"{meta.n_samples} samples (allowed offset 0..{meta.n_samples - 1}, "
                          "count >= 1)")
    with open(meta.data_path, "rb") as f:
        f.seek(offset * bps)
        raw = f.read(-1 if count is None else count * bps)
    if len(raw) % bps:
        raise DeviceError(f"{str(meta.data_path)!r}: size is not a whole number of "
                          f"{meta.format} samples ({len(raw) % bps} trailing bytes)")
    return decode_samples(raw, meta.format).copy(), meta


def write_sigmf_meta(data_path: Path, fmt: str, sample_rate: float | None,
                     center_freq: float | None, annotations: Iterable[tuple[int, dict]] = (),
                     description: str | None = None, datetime: str | None = None) -> Path:
    """Write the ``.sigmf-meta`` beside ``data_path`` (which must already hold the samples)."""
    import sigmf

    from sdrcast import __version__

    data, meta = sigmf_paths(data_path)
    dtype = {v: k for k, v in SIGMF_DATATYPES.items()}[fmt]
    info = {sigmf.DATATYPE_KEY: dtype, sigmf.VERSION_KEY: sigmf.__specification__,
            sigmf.RECORDER_KEY: f"sdrcast {__version__}"}
    if sample_rate:
        info[sigmf.SAMPLE_RATE_KEY] = float(sample_rate)
    if description:
        info[sigmf.DESCRIPTION_KEY] = description
    rec = sigmf.SigMFFile(data_file=str(data), global_info=info, skip_checksum=True)
    cap = {sigmf.DATETIME_KEY: datetime or dt.datetime.now(dt.timezone.utc)
           .strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    if center_freq is not None:
        cap[sigmf.FREQUENCY_KEY] = float(center_freq)
    rec.add_capture(0, cap)
    for start, md in annotations:
        rec.add_annotation(int(start), metadata=md)
    rec.tofile(str(meta), skip_validate=False, overwrite=True)
    return meta


def write_samples(path: str | Path, iq: np.ndarray, sample_rate: float | None = None,
                  center_freq: float | None = None, fmt: str | None = None,
                  annotations: Iterable[tuple[int, dict]] = ()) -> int:
    """Write complex samples to a raw or SigMF file; returns the number of clipped samples."""
    fmt = format_of(path, fmt)
    raw_fmt = "cf32" if fmt == "sigmf" else fmt
    target = sigmf_paths(path)[0] if fmt == "sigmf" else Path(str(path))
    raw, clipped = encode_samples(iq, raw_fmt)
    target.write_bytes(raw)
    if fmt == "sigmf":
        write_sigmf_meta(target, raw_fmt, sample_rate, center_freq, annotations)
    return clipped


class FileSource(Source):
    """Stream samples from a raw/SigMF file or stdin (``-``) in chunks of ``chunk_size``.

    SigMF annotations become tags (key = the annotation's ``core:label`` or ``annotation``)
    at their ``core:sample_start``. ``repeat`` loops the file (for transmitting a recording).
    """

    def __init__(self, path: str | Path, fmt: str | None = None, chunk_size: int = 65536,
                 sample_rate: float | None = None, repeat: bool = False, name: str | None = None):
        self.path = str(path)
        self.chunk_size = int(chunk_size)
        self.repeat = repeat
        if self.path == "-":
            self.meta = SampleMeta(fmt or "cf32", sample_rate)
        else:
            self.meta = read_meta(path, fmt, sample_rate)
        if self.meta.format not in FORMATS:
            raise ConfigError(f"format={self.meta.format!r} is not allowed for stdin; "
                              f"choose one of {list(FORMATS)}")
        super().__init__(name or "file_source", sample_rate or self.meta.sample_rate)

    def _tags(self, start: int, n: int) -> list[Tag]:
        out = []
        for a in self.meta.annotations:
            pos = a.get("core:sample_start", -1)
            if start <= pos < start + n:
                out.append(Tag(pos - start, a.get("core:label", "annotation"),
                               a.get("core:comment", a)))
        return out

    def generate(self) -> Iterator[Chunk]:
        bps = _BYTES_PER_SAMPLE[self.meta.format]
        nbytes = self.chunk_size * bps
        while True:
            f = sys.stdin.buffer if self.path == "-" else open(self.meta.data_path, "rb")
            pos, leftover = 0, b""
            try:
                while not self.stopping:
                    block = f.read(nbytes)
                    if not block:
                        break
                    raw = leftover + block
                    whole = len(raw) - len(raw) % bps
                    raw, leftover = raw[:whole], raw[whole:]
                    if not raw:
                        continue
                    iq = decode_samples(raw, self.meta.format).copy()
                    yield Chunk(iq, self._tags(pos, iq.size))
                    pos += iq.size
                if leftover:
                    self.counters.add("trailing_bytes_dropped", len(leftover))
            finally:
                if f is not sys.stdin.buffer:
                    f.close()
            if not self.repeat or self.stopping or self.path == "-":
                return


class FileSink(Sink):
    """Write samples to a raw/SigMF file or stdout (``-``).

    For SigMF, tags whose key is in ``annotate`` (default ``frame_start``) become annotations at
    their absolute sample index, with the tag value as the comment.
    """

    def __init__(self, path: str | Path, fmt: str | None = None, sample_rate: float | None = None,
                 center_freq: float | None = None, annotate: Iterable[str] = ("frame_start",),
                 description: str | None = None, name: str | None = None):
        super().__init__(name or "file_sink", sample_rate)
        self.path = str(path)
        self.fmt = (fmt or "cf32") if self.path == "-" else format_of(path, fmt)
        if self.path == "-" and self.fmt not in FORMATS:
            raise ConfigError(f"format={self.fmt!r} is not allowed for stdout; choose one of {list(FORMATS)}")
        self.raw_fmt = "cf32" if self.fmt == "sigmf" else self.fmt
        self.center_freq, self.description = center_freq, description
        self.annotate = set(annotate)
        self.annotations: list[tuple[int, dict]] = []
        self.n_written = 0
        if self.path == "-":
            self._f = sys.stdout.buffer
        else:
            target = sigmf_paths(path)[0] if self.fmt == "sigmf" else Path(self.path)
            try:
                self._f = open(target, "wb")
            except OSError as exc:
                raise DeviceError(f"cannot write {str(target)!r}: {exc.strerror}") from exc
        self._closed = False

    def consume(self, chunk: Chunk) -> None:
        raw, clipped = encode_samples(chunk.data, self.raw_fmt)
        if clipped:
            self.counters.add("clipped", clipped)
        for t in chunk.tags:
            if t.key in self.annotate:
                self.annotations.append((self.n_written + t.offset,
                                         {"core:label": t.key, "core:comment": str(t.value)}))
        self._f.write(raw)
        self.n_written += len(chunk)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._f is sys.stdout.buffer:
            self._f.flush()
            return
        self._f.close()
        if self.fmt == "sigmf":
            write_sigmf_meta(Path(self._f.name), self.raw_fmt, self.sample_rate, self.center_freq,
                             self.annotations, self.description)
