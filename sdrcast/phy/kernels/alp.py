"""Link-layer packing kernels: ATSC 3.0 ALP encapsulation of TS packets."""
import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def alp_ts_single_packets(pkts: np.ndarray, delete_nulls: bool, nulls: int, null_pid: int, max_dnp: int):
    """A/330 ALP TS packets, NUMTS = 1 without header deletion (the common case), in one pass
    over ``pkts[n, 188]``: (ALP bytes, packet starts, nulls pending, nulls deleted); null
    packets (``null_pid``) are deleted and counted in the next packet's DNP, up to
    ``max_dnp``."""
    n = pkts.shape[0]
    out = np.empty(n * (2 + pkts.shape[1] - 1), np.uint8)
    starts = np.empty(n, np.int64)
    a, k, deleted = 0, 0, 0
    for i in range(n):
        pid = ((pkts[i, 1] & 0x1F) << 8) | pkts[i, 2]
        if delete_nulls and pid == null_pid and nulls < max_dnp:
            nulls += 1
            deleted += 1
            continue
        starts[k] = a
        k += 1
        if nulls:
            out[a] = 0xE3  # TS mode, NUMTS 1, AHF with DNP
            out[a + 1] = nulls & 0x7F
            a += 2
        else:
            out[a] = 0xE2
            a += 1
        out[a:a + pkts.shape[1] - 1] = pkts[i, 1:]
        a += pkts.shape[1] - 1
        nulls = 0
    return out[:a], starts[:k], nulls, deleted
