"""DTMB transmitter stages (GB 20600-2006), each a function of whole frames.

Energy dispersal 4.4.1 -> BCH(762,752) + LDPC 4.3 -> mapping 4.4.3 -> convolutional symbol
interleaver 4.4.4 -> frame body with system information 4.6.3 (and the C=3780 frequency
interleaver + IDFT) -> PN frame header 4.5.2/4.6.2. Conventions are those of
``sdrcast/phy/dtmb/tables/README.md``.
"""
from __future__ import annotations

from functools import cache

import numpy as np

from sdrcast.phy.dtmb import tables
from sdrcast.phy.dtmb.config import BODY_SYMBOLS, DATA_SYMBOLS, DtmbConfig
from sdrcast.phy.kernels.prbs import lfsr_fibonacci
from sdrcast.phy.ofdm import modem

SCRAMBLER_POLY = (1 << 15) | (1 << 14) | 1  # 1 + x^14 + x^15
SCRAMBLER_SEED = 0x00A9  # 100101010000000, D1 first


@cache
def prbs(n: int) -> np.ndarray:
    """The first ``n`` energy-dispersal bits (reset at every signal frame)."""
    return lfsr_fibonacci(SCRAMBLER_POLY, SCRAMBLER_SEED, n)[0]


def scramble_frame(bits: np.ndarray) -> np.ndarray:
    """XOR one signal frame's TS bits (MSB first) with the PRBS from its start; self-inverse."""
    return bits ^ prbs(bits.size)


def map_symbols(cfg: DtmbConfig, bits: np.ndarray) -> np.ndarray:
    """LDPC bits -> unit-power symbols; the first bit into the mapper is the label's LSB.
    4QAM-NR: each byte becomes a 16-bit Nordstrom-Robinson word sent as 8 4QAM symbols."""
    from sdrcast.phy.kernels.qam import map_bits

    if cfg.constellation == "4QAM-NR":
        return map_symbols_4qam(tables.nr_words()[np.packbits(bits.reshape(-1, 8), axis=1)[:, 0]]
                                .reshape(-1))
    bps = {"4QAM": 2, "16QAM": 4, "32QAM": 5, "64QAM": 6}[cfg.constellation]
    # reverse each group so the MSB-first mapper reads b_{bps-1} .. b0, i.e. label sum b_n 2^n
    rev = np.ascontiguousarray(bits.reshape(-1, bps)[:, ::-1]).reshape(-1)
    return map_bits(rev, tables.constellation_points(cfg.constellation), bps)


def map_symbols_4qam(bits: np.ndarray) -> np.ndarray:
    """Bit pairs -> 4QAM symbols, first bit of each pair on I (the label's b0)."""
    from sdrcast.phy.kernels.qam import map_bits

    rev = np.ascontiguousarray(bits.reshape(-1, 2)[:, ::-1]).reshape(-1)
    return map_bits(rev, tables.constellation_points("4QAM"), 2)


def si_symbols(cfg: DtmbConfig) -> np.ndarray:
    """The 36 system-information symbols: bit 0 -> (1+j)/sqrt2, bit 1 -> -(1+j)/sqrt2."""
    b = tables.system_info_bits(cfg.si_index, cfg.carriers).astype(np.float32)
    return ((1 - 2 * b) * (1 + 1j) / np.sqrt(2)).astype(np.complex64)


def frame_body(cfg: DtmbConfig, logical: np.ndarray) -> np.ndarray:
    """Logical bodies (``[..., 3780]``) -> time-domain bodies at 7.56 Msps. C=1: unchanged.
    C=3780: SI on logical carriers 420 g + {0, 140, 279, 419}, data on the others in order,
    frequency interleaver, then a unitary 3780-point IDFT (bin 0 = DC)."""
    if cfg.carriers == 1:
        return logical.astype(np.complex64)
    return modem.to_time(np.asarray(logical, np.complex64)[..., _carrier_order()], centred=False)


@cache
def _carrier_order() -> np.ndarray:
    """Logical body index on each of the 3780 carriers (bin order): SI on its positions, data
    on the others in order (positions increase, so order is kept), then the frequency
    interleaver. One gather does all three."""
    mask = tables.si_mask()
    carrier_of = np.concatenate([np.flatnonzero(mask), np.flatnonzero(~mask)])
    order = np.empty(BODY_SYMBOLS, np.int64)
    order[tables.freq_interleaver()[carrier_of]] = np.arange(BODY_SYMBOLS)
    return order


@cache
def header(cfg: DtmbConfig, frame_index: int) -> np.ndarray:
    """PN header chips of frame ``frame_index`` within its superframe: bit 0 -> +1, 1 -> -1,
    I = Q, scaled to ``power_ratio`` times the body's unit power (read-only, cached)."""
    t = tables.pn_tables()
    if cfg.header == "pn595":
        bits = t["pn595_bits"]
    elif cfg.header_rotating:
        rot = t[f"{cfg.header}_rotating_headers_bits"]
        bits = rot[frame_index % rot.shape[0]]
    else:
        bits = t[f"{cfg.header}_phase0_bits"]
    amp = np.sqrt(cfg.power_ratio / 2)
    chips = ((1 - 2 * bits.astype(np.float32)) * (1 + 1j) * amp).astype(np.complex64)
    chips.flags.writeable = False
    return chips


def frames_per_superframe(cfg: DtmbConfig) -> int:
    return {"pn420": 225, "pn595": 216, "pn945": 200}[cfg.header]


def latency_frames(cfg: DtmbConfig) -> int:
    """Delay of the time interleaver in frames (52*51*M symbols, rounded up): frames into the
    deinterleaver before the first decoded frame comes out, and null frames the transmitter
    sends after the input so that all of it leaves (4QAM-NR: the interleaver runs on bits, two
    per symbol)."""
    per_frame = 2 * DATA_SYMBOLS if cfg.constellation == "4QAM-NR" else DATA_SYMBOLS
    return -(-52 * 51 * cfg.interleaver_unit // per_frame)
