"""MPEG-TS (ISO/IEC 13818-1): packet helpers here (188-byte packets, sync 0x47, null PID 0x1FFF);
PSI sections in ``psi``, a program stream to test with in ``mux``, ETSI TR 101 290 checks in
``tr101290``."""
from __future__ import annotations

import numpy as np

TS_PACKET = 188
SYNC = 0x47
NULL_PID = 0x1FFF


def null_packets(n: int, continuity: int = 0) -> np.ndarray:
    """``n`` null packets (PID 0x1FFF, payload only, 0xFF payload) as a flat uint8 array."""
    pkt = np.full((n, TS_PACKET), 0xFF, np.uint8)
    pkt[:, 0] = SYNC
    pkt[:, 1] = 0x1F
    pkt[:, 2] = 0xFF
    pkt[:, 3] = 0x10 | ((continuity + np.arange(n)) & 0x0F)
    return pkt.reshape(-1)


def lost_packets(n: int) -> np.ndarray:
    """``n`` stand-ins for packets lost to the channel: null packets with the
    transport_error_indicator set, so that the stream keeps its packet count and every
    analyser sees the loss (TR 101 290 Transport_error) while demultiplexers drop them."""
    pkt = null_packets(n)
    set_transport_error(pkt, np.ones(n, bool))
    return pkt


def pids(packets: np.ndarray) -> np.ndarray:
    """PID of each packet of a flat array of whole packets."""
    p = packets.reshape(-1, TS_PACKET)
    return ((p[:, 1].astype(np.int32) & 0x1F) << 8) | p[:, 2]


def sync_ok(packets: np.ndarray) -> np.ndarray:
    """True for each packet whose first byte is 0x47."""
    return packets.reshape(-1, TS_PACKET)[:, 0] == SYNC


def set_transport_error(packets: np.ndarray, which: np.ndarray) -> None:
    """Set transport_error_indicator on the packets flagged in ``which`` (in place)."""
    p = packets.reshape(-1, TS_PACKET)
    p[which, 1] |= 0x80


def sample_stream(n: int, pid: int = 0x100, seed: int = 0) -> np.ndarray:
    """``n`` packets of one PID with continuity counters and random payload (for tests/demos)."""
    rng = np.random.default_rng(seed)
    pkt = rng.integers(0, 256, (n, TS_PACKET), dtype=np.uint8)
    pkt[:, 0] = SYNC
    pkt[:, 1] = (pid >> 8) & 0x1F
    pkt[:, 2] = pid & 0xFF
    pkt[:, 3] = 0x10 | (np.arange(n) & 0x0F)
    return pkt.reshape(-1)
