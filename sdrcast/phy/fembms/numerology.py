"""FeMBMS numerologies (3GPP TS 36.211 6.2.3, 6.12, Table 6.12-1) and their OFDM at the
standard sample rates, with LTE's DC convention: the 12 N_RB (or 24/144/.. N_RB) subcarriers
of a grid sit at FFT bins -N/2..-1 and +1..+N/2, the DC bin is not used and no half-subcarrier
shift is applied (as the shared vectors and the 5G-MAG transmitter and modem do; the 36.211
rule for 7.5/1.25 kHz could not be read from the facts available).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from sdrcast.config import require_one_of
from sdrcast.phy.fembms.tables import json_table
from sdrcast.phy.ofdm import modem

TS_RATE = 30.72e6  # 1 / Ts
SAMPLE_RATES = {6: 1.92e6, 15: 3.84e6, 25: 7.68e6, 50: 15.36e6, 75: 23.04e6, 100: 30.72e6}
NAMES = {"15kHz_normal_CP": "15", "15kHz_extended_CP": "15e", "7.5kHz_extended_CP": "7.5",
         "1.25kHz": "1.25", "2.5kHz": "2.5", "0.37kHz": "0.37"}


@dataclass(frozen=True)
class Numerology:
    """One subcarrier spacing: ``name`` ("15", "15e", "7.5", "1.25", "2.5", "0.37"), symbol
    length ``n_ts`` and prefixes ``cp_ts`` (Ts units) of every symbol of one subframe (3 ms for
    0.37 kHz), subcarriers per resource block."""

    name: str
    delta_f: float
    n_ts: int
    cp_ts: tuple[int, ...]
    sc_per_rb: int

    @property
    def symbols(self) -> int:
        return len(self.cp_ts)

    @property
    def subframe_ms(self) -> int:
        return round(sum(self.cp_ts) + self.symbols * self.n_ts) // 30720

    def fft_size(self, rate: float) -> int:
        return round(self.n_ts * rate / TS_RATE)

    def prefixes(self, rate: float) -> list[int]:
        return [round(c * rate / TS_RATE) for c in self.cp_ts]

    def modulate(self, grid: np.ndarray, rate: float) -> np.ndarray:
        """``grid[n_sym, n_sc]`` (lowest subcarrier first, no DC) -> samples, symbol j with
        the prefix of symbol j mod ``symbols`` of a subframe (one FFT thread: the transmitter
        runs it on the kernel pool, two threads each oversubscribed the cores, 1.04x -> 2.1x at
        10 MHz)."""
        grid = np.atleast_2d(grid)
        bins = to_bins(grid, self.fft_size(rate), centred=False)
        return modem.modulate(bins, np.resize(self.prefixes(rate), grid.shape[0]), centred=False,
                              workers=1)  # the transmitter modulates on the kernel pool

    def demodulate(self, samples: np.ndarray, n_sc: int, rate: float, n_sym: int | None = None,
                   fft_offset: int = 0) -> np.ndarray:
        """Samples starting at a subframe -> ``[n_sym, n_sc]`` (default: one subframe); FFT
        windows ``fft_offset`` samples early, into the prefix (``modem.windows``), with the
        linear phase that puts across the bins taken out again."""
        n_sym = self.symbols if n_sym is None else n_sym
        cps = np.resize(self.prefixes(rate), n_sym)
        n = self.fft_size(rate)
        bins = modem.demodulate(samples, n, cps, n_sym, fft_offset)
        if fft_offset:
            k = np.arange(-(n // 2), n - n // 2)
            bins *= np.exp(2j * np.pi * fft_offset * k / n).astype(np.complex64)
        return from_bins(bins, n_sc)


@cache
def numerology(name: str) -> Numerology:
    rows = {NAMES[n["config"]]: n for n in json_table("numerology_36211.json")["numerologies"]}
    require_one_of("numerology", name, list(rows))
    n = rows[name]
    per_sub = 2 if n["slot_ms"] == 0.5 else 1  # slots per subframe
    return Numerology(name, float(n["delta_f_Hz"]), int(n["N_Ts"]), tuple(n["cp_Ts"]) * per_sub,
                      int(n["subcarriers_per_RB"]))


def to_bins(grid: np.ndarray, nfft: int, centred: bool = True) -> np.ndarray:
    """``[n_sym, n_sc]`` -> FFT grid ``[n_sym, nfft]`` with the DC bin empty: centred (DC at
    ``nfft // 2``) or in FFT order (DC at 0, negative frequencies at the end)."""
    g = np.atleast_2d(np.asarray(grid, np.complex64))
    half = g.shape[1] // 2
    out = np.zeros((g.shape[0], nfft), np.complex64)
    lo, hi = (nfft // 2 - half, nfft // 2 + 1) if centred else (nfft - half, 1)
    out[:, lo:lo + half] = g[:, :half]
    out[:, hi:hi + half] = g[:, half:]
    return out


def from_bins(bins: np.ndarray, n_sc: int) -> np.ndarray:
    nfft, half = bins.shape[1], n_sc // 2
    return np.concatenate([bins[:, nfft // 2 - half:nfft // 2],
                           bins[:, nfft // 2 + 1:nfft // 2 + 1 + half]], axis=1)
