"""A/322 8.3-8.5 OFDM waveform: active carriers -> IFFT -> guard interval, at the baseband rate
F_s = (bsr_coefficient + 16) x 0.384 MHz, with the bootstrap (A/321) resampled to it in front
of each frame.

Carrier j of a symbol with NoC active carriers sits in IFFT bin ``(N - NoC)//2 + 1 + j`` counted
from the lowest frequency (DC at N/2). Each symbol is scaled to unit average power by
1/sqrt(P), P its nominal energy: for preamble symbols the pilots' energy plus one per data
carrier; for data and subframe-boundary symbols the data-symbol value N_data + (NoC - N_data -
N_CP) A_SP^2 + N_CP A_CP^2 (Table 7.4 N_data; as gr-atsc3, within 1e-4).
"""
from __future__ import annotations

import numpy as np

from sdrcast.phy.atsc3 import bootstrap as bs
from sdrcast.phy.atsc3 import papr
from sdrcast.phy.atsc3.frame_geometry import SymbolLayout, pattern_index, reserved_carriers
from sdrcast.phy.atsc3.pilots import noc, symbol_map
from sdrcast.phy.atsc3.tables import ofdm
from sdrcast.phy.kernels.papr import tone_reservation
from sdrcast.phy.ofdm import modem
from sdrcast.phy.parallel import parallel_map
from sdrcast.phy.resample import Resampler


def sample_rate(bsr_coefficient: int) -> float:
    return (bsr_coefficient + 16) * 0.384e6


def is_atsc3_rate(rate: float) -> bool:
    """(N + 16) x 0.384 MHz for N in 0..80 (A/322 8.2): a baseband rate a bootstrap can signal."""
    n = rate / 0.384e6 - 16
    return abs(n - round(n)) < 1e-6 and 0 <= round(n) <= 80


def guard_samples(gi: int) -> int:
    return ofdm()["guard_interval_samples"][f"GI{gi}"]


def data_symbol_energy(fft: int, pattern: str, boost: int, cred: int) -> float:
    tab = ofdm()
    key = {8192: "8K", 16384: "16K", 32768: "32K"}[fft]
    n_data = tab["cells_per_symbol"][f"data_cells_{key}"][pattern_index(pattern)][cred]
    n_cp = len(tab["continual_pilots_common"][str(fft)])
    a_sp = 10 ** (tab["scattered_pilot_boost_dB"]["table"][pattern_index(pattern)][boost] / 10)
    a_cp = 10 ** (tab["continual_pilot_boost_dB"] / 10)
    return n_data + (noc(fft, cred) - n_data - n_cp) * a_sp + n_cp * a_cp


def modulate(symbols: list[np.ndarray], layout: SymbolLayout, excess: int = 0,
             tr: tuple[float, float, int] | None = None) -> np.ndarray:
    """Active carriers per symbol -> time samples with guard intervals (complex64); ``excess``
    samples lengthen the guard interval of every payload (non-preamble) symbol (time-aligned
    frames); ``tr`` = (clip dB over the symbol RMS, largest reserved-carrier amplitude over the
    data cells' RMS, iterations) fills the reserved carriers of a ``layout.tr`` subframe."""
    n = layout.fft
    g = guard_samples(layout.gi)
    p_data = data_symbol_energy(n, layout.pattern, layout.boost, layout.cred)
    grid = np.zeros((len(symbols), n), np.complex64)
    scale = np.empty(len(symbols))
    for j, (kind, x) in enumerate(zip(layout.kinds, symbols, strict=True)):
        start = (n - x.size) // 2 + 1
        grid[j, start:start + x.size] = x
        if kind in ("FP", "P"):
            amp, data = symbol_map(layout, j)
            scale[j] = 1 / np.sqrt(np.sum(np.abs(amp) ** 2) + data.sum())
        else:
            scale[j] = 1 / np.sqrt(p_data)
    t = modem.to_time(grid, centred=True, scale=scale * np.sqrt(n))
    if layout.tr and tr is not None:
        _reserve_tones(t, layout, scale, *tr)
    return modem.add_prefix(t, [g + (0 if k in ("FP", "P") else excess) for k in layout.kinds])


def demodulate(samples: np.ndarray, layout: SymbolLayout, excess: int = 0,
               backoff: int = 0) -> list[np.ndarray]:
    """A subframe's samples (guard intervals included) -> active carriers per symbol, scaled
    back to cell units (inverse of ``modulate`` for a perfectly synchronised signal). The FFT
    window starts ``backoff`` samples into the guard interval early (a linear phase across the
    carriers, which channel estimation absorbs), so that echoes before the main path do not
    reach into the previous symbol; the phase ramp the early start puts across the carriers
    is taken out again here."""
    n, g = layout.fft, guard_samples(layout.gi)
    p_data = data_symbol_energy(n, layout.pattern, layout.boost, layout.cred)
    prefix = [g + (0 if k in ("FP", "P") else excess) for k in layout.kinds]
    grid = modem.demodulate(samples, n, prefix, fft_offset=backoff)
    if backoff:
        grid *= np.exp(2j * np.pi * (np.arange(n) - n // 2) * backoff / n).astype(np.complex64)
    out = []
    for j, (kind, spec) in enumerate(zip(layout.kinds, grid, strict=True)):
        if kind in ("FP", "P"):
            amp, data = symbol_map(layout, j)
            scale = 1 / np.sqrt(np.sum(np.abs(amp) ** 2) + data.sum())
            noc_j = amp.size
        else:
            scale = 1 / np.sqrt(p_data)
            noc_j = noc(n, layout.cred)
        start = (n - noc_j) // 2 + 1
        out.append(spec[start:start + noc_j] / np.float32(np.sqrt(n) * scale))
    return out


def _reserve_tones(t: np.ndarray, layout: SymbolLayout, scale: np.ndarray, clip_db: float,
                   max_tone: float, iterations: int) -> None:
    n, cred, n_pre = layout.fft, layout.cred, layout.n_preamble
    sets: dict[bytes, int] = {}
    kidx = np.full(len(layout.kinds), -1, np.int64)
    reserved = []
    for j, kind in enumerate(layout.kinds):
        idx = reserved_carriers(n, kind, j - n_pre, layout.gi, layout.pattern, cred)
        if not idx.size:
            continue
        b = (idx + (n - noc(n, cred)) // 2 + 1 - n // 2) % n  # FFT bins (DC at 0)
        kidx[j] = sets.setdefault(b.tobytes(), len(sets))
        if kidx[j] == len(reserved):
            reserved.append(b)
    if not reserved:
        return
    kern, bins = papr.kernels(reserved, n)
    sizes = np.array([reserved[k].size if k >= 0 else 0 for k in kidx])
    clip = 10 ** (clip_db / 20) * np.sqrt(np.mean(np.abs(t) ** 2, axis=1))
    a_max = max_tone * sizes * scale
    half = len(t) // 2  # two threads, each on its own symbols (the kernel releases the GIL)
    parallel_map(lambda sl: tone_reservation(t[sl], kern, bins, kidx[sl], clip[sl], a_max[sl],
                                             iterations), (slice(0, half), slice(half, None)))


def bootstrap_at(rate: float, fields: bs.BootstrapFields) -> np.ndarray:
    """The bootstrap resampled from 6.144 Msps to ``rate`` (polyphase, delay removed)."""
    b = bs.bootstrap(fields)
    r = Resampler.from_rates(bs.SAMPLE_RATE, rate)
    delay = int(round(r.delay_out))
    y = r(np.concatenate([b, np.zeros(int(np.ceil(delay * r.down / r.up)) + 2, np.complex64)]))
    return y[delay:delay + b.size * r.up // r.down]


def decode_bootstrap_at(samples: np.ndarray, rate: float) -> bs.BootstrapFields:
    """The fields of a bootstrap received at ``rate`` from ``samples[0]`` (resampled back to
    6.144 Msps, then ``bootstrap.decode``)."""
    r = Resampler.from_rates(rate, bs.SAMPLE_RATE)
    n = round(4 * bs.SYMBOL_SAMPLES * rate / bs.SAMPLE_RATE)
    back = r(np.concatenate([np.asarray(samples[:n], np.complex64),
                             np.zeros(int(np.ceil(r.delay_out * r.down / r.up)) + 2, np.complex64)]))
    d = int(round(r.delay_out))
    return bs.decode(back[d:d + 4 * bs.SYMBOL_SAMPLES])
