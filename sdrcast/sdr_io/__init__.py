"""Sources and sinks with one interface for files, network and radios.

``open_source(spec)`` / ``open_sink(spec)`` accept a path (format from the extension or SigMF
metadata), ``-`` (stdin/stdout), ``udp://host:port``, ``zmq+pub://…``/``zmq+sub://…``/
``zmq+push://…``/``zmq+pull://…``/``zmq+req://…``/``zmq+rep://…`` and ``soapy:ARGS``.
"""
from sdrcast.sdr_io.endpoints import open_sink, open_source
from sdrcast.sdr_io.files import SampleMeta, read_samples, write_samples

__all__ = ["SampleMeta", "open_sink", "open_source", "read_samples", "write_samples"]
