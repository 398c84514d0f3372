"""DTMB baseband pulse shaping (GB 20600-2006 4.8): square-root raised cosine, roll-off 0.05,
between the 7.56 Msym/s symbol stream and a radio's sample rate.

``shaper(rate)`` is the transmitter's: SRRC interpolation from 7.56 Msps to ``rate`` with unit
output power for unit-power symbols. ``matched_filter(rate)`` is the receiver's: SRRC filtering
of a stream at ``rate`` back to 7.56 Msps. Both are streaming polyphase resamplers; the ratio
must be a fraction with a denominator up to 1000 (10 Msps is 250/189, 15.12 Msps is 2/1).
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from sdrcast.errors import ConfigError
from sdrcast.phy.dtmb.config import SYMBOL_RATE
from sdrcast.phy.kernels.filters import srrc_taps
from sdrcast.phy.resample import Resampler

ROLLOFF = 0.05
SPAN = 64  # symbols: a 5 % roll-off needs a long filter for low out-of-band power
MIN_RATE = SYMBOL_RATE * (1 + ROLLOFF)


def _ratio(rate: float) -> Fraction:
    r = Fraction(rate / SYMBOL_RATE).limit_denominator(1000)
    if rate < MIN_RATE or abs(float(r) * SYMBOL_RATE - rate) > 1e-3:
        raise ConfigError(f"sample_rate={rate:g}: shaped DTMB needs a rate of at least "
                          f"{MIN_RATE:g} Hz that is a fraction p/q (q <= 1000) of 7.56 MHz "
                          f"(e.g. 10e6, 15.12e6), or exactly 7.56e6 for unshaped symbols")
    return r


def shaper(rate: float) -> Resampler:
    """7.56 Msps symbols -> SRRC-shaped samples at ``rate``."""
    r = _ratio(rate)
    taps = srrc_taps(ROLLOFF, r.numerator, SPAN) * np.sqrt(r.numerator)
    return Resampler(r.numerator, r.denominator, taps)


def matched_filter(rate: float) -> Resampler:
    """Samples at ``rate`` -> SRRC-filtered 7.56 Msps stream (the receiver's channel estimate
    absorbs the filters' delay and gain)."""
    r = 1 / _ratio(rate)
    return Resampler(r.numerator, r.denominator, srrc_taps(ROLLOFF, r.denominator, SPAN))
