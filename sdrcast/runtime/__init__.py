"""Flowgraph engine: blocks as generator transforms over chunks, run one thread each. No DSP here."""
from sdrcast.runtime.block import Block, Chunk, Sink, Source, Tag, run_block
from sdrcast.runtime.frames import FrameAdapter, FrameBlock
from sdrcast.runtime.graph import Flowgraph

__all__ = ["Block", "Chunk", "FrameAdapter", "FrameBlock", "Flowgraph", "Sink", "Source", "Tag",
           "run_block"]
