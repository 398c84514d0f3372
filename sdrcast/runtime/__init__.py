"""Flowgraph engine: blocks as generator transforms over chunks, run one thread each. No DSP here."""
from sdrcast.runtime.block import (
                                   Block,
                                   Chunk,
                                   Head,
                                   Label,
                                   Sink,
                                   Source,
                                   Tag,
                                   Throttle,
                                   VectorSink,
                                   VectorSource,
                                   run_block,
)
from sdrcast.runtime.frames import FrameAdapter, FrameBlock
from sdrcast.runtime.graph import Flowgraph

__all__ = ["Block", "Head", "Chunk", "FrameAdapter", "FrameBlock", "Flowgraph", "Label", "Sink",
           "Source", "Tag", "Throttle", "VectorSink", "VectorSource", "run_block"]
