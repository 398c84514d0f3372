"""Test helpers any block's tests use: chunk invariance and stream comparison."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sdrcast.runtime.block import Block, Chunk, run_block


def split_random(chunk: Chunk, rng: np.random.Generator, max_len: int) -> list[Chunk]:
    """Cut ``chunk`` at random points into pieces of 1..max_len items (empty pieces included)."""
    pieces, pos = [], 0
    while pos < len(chunk):
        n = int(rng.integers(0, max_len + 1))
        pieces.append(chunk.slice(pos, pos + n))
        pos += n
    return pieces


def flatten(chunks: list[Chunk]) -> Chunk:
    """All chunks as one, tags at absolute offsets (an empty list gives an empty chunk)."""
    non_empty = [c for c in chunks if len(c) or c.tags]
    if not non_empty:
        return Chunk(np.zeros(0))
    return Chunk.concat(non_empty)


def assert_chunk_invariant(make_block: Callable[[], Block], stream: Chunk | np.ndarray,
                           seed: int = 0, trials: int = 3, max_len: int | None = None,
                           compare: Callable[[np.ndarray, np.ndarray], None] | None = None) -> Chunk:
    """Check that a block's output does not depend on how its input is chunked.

    Runs a fresh block on ``stream`` in one piece, then ``trials`` times on random chunkings, and
    asserts equal output items (exactly, or with ``compare``) and equal tags at equal absolute
    offsets. Returns the one-shot output.
    """
    stream = stream if isinstance(stream, Chunk) else Chunk(np.asarray(stream))
    rng = np.random.default_rng(seed)
    ref = flatten(run_block(make_block(), [stream]))
    max_len = max_len or max(len(stream) // 5, 2)
    for trial in range(trials):
        got = flatten(run_block(make_block(), split_random(stream, rng, max_len)))
        if compare:
            compare(got.data, ref.data)
        else:
            np.testing.assert_array_equal(got.data, ref.data, err_msg=f"trial {trial}: data differ")
        assert sorted(got.tags, key=repr) == sorted(ref.tags, key=repr), f"trial {trial}: tags differ"
    return ref
