"""RF impairments as streaming stages (callables on sample arrays, state carried across calls;
wrap any of them in ``runtime.FrameBlock`` to put it in a flowgraph).

Every random quantity is drawn from ``channel.noise`` streams addressed by absolute sample index,
so the output never depends on how the input is chunked.
"""
from __future__ import annotations

import numpy as np
import scipy.signal

from sdrcast.channel.noise import BLOCK, gaussian, poisson_points
from sdrcast.config import require_range
from sdrcast.errors import ConfigError
from sdrcast.phy.kernels.fractional import fractional_interpolate
from sdrcast.phy.kernels.mix import mix
from sdrcast.phy.resample import sinc_table


class FrequencyOffset:
    """Carrier frequency offset, phase-continuous: ``hz``, or ``ppm`` of ``carrier_hz``."""

    def __init__(self, sample_rate: float, hz: float | None = None, ppm: float | None = None,
                 carrier_hz: float | None = None):
        if (hz is None) == (ppm is None):
            raise ConfigError("give the carrier offset as hz or as ppm (with carrier_hz)")
        if ppm is not None:
            if not carrier_hz:
                raise ConfigError("ppm needs carrier_hz")
            hz = ppm * 1e-6 * carrier_hz
        self.hz, self.sample_rate, self.pos = float(hz), float(sample_rate), 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        f = self.hz / self.sample_rate
        y = mix(np.ascontiguousarray(x, np.complex64), (f * self.pos) % 1.0, f)
        self.pos += len(x)
        return y


class SampleClockOffset:
    """Receiver sample clock off by ``ppm``: output sample m is the input at time
    ``m / (1 + ppm 1e-6)`` (positive ppm: the receiver samples faster, a tone appears lower).
    Windowed-sinc interpolation with ``half`` taps each side (a 512-phase table, linearly
    interpolated between phases); the stream is delayed by ``half``
    input samples at its start, never by more."""

    def __init__(self, ppm: float, half: int = 16):
        require_range("ppm", ppm, -1e4, 1e4)
        self.ppm, self.half = float(ppm), int(half)
        self.step = 1.0 / (1 + ppm * 1e-6)
        self.table = sinc_table(self.half)
        self.t = 0.0
        self.buf = np.zeros(0, np.complex64)
        self.buf0 = 0  # absolute index of buf[0]
        self.seen = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.buf = np.concatenate([self.buf, np.asarray(x, np.complex64)])
        self.seen += len(x)
        y, self.t = fractional_interpolate(self.buf, self.buf0, self.t, self.step, self.table, self.half,
                            self.seen - self.buf0)
        keep_from = max(0, int(np.floor(self.t)) - self.half - 1 - self.buf0)
        self.buf = self.buf[keep_from:]
        self.buf0 += keep_from
        return y


class PhaseNoise:
    """Oscillator phase noise: Wiener (``linewidth_hz``, Lorentzian 3 dB full width) or from an
    SSB mask ``mask=[(offset_hz, dBc_per_Hz), ...]`` (log-interpolated; realised by filtering
    white noise with a ``taps``-long FIR)."""

    def __init__(self, sample_rate: float, linewidth_hz: float | None = None,
                 mask: list[tuple[float, float]] | None = None, seed: int = 0, taps: int = 2049):
        if (linewidth_hz is None) == (mask is None):
            raise ConfigError("give phase noise as linewidth_hz (Wiener) or as mask")
        self.sample_rate, self.seed, self.pos = float(sample_rate), seed, 0
        self.phase = 0.0
        if linewidth_hz is not None:
            require_range("linewidth_hz", linewidth_hz, 0.0)
            self.sigma = np.sqrt(2 * np.pi * linewidth_hz / sample_rate)
            self.fir = None
        else:
            f = np.array([m[0] for m in mask], float)
            if np.any(f <= 0) or np.any(np.diff(f) <= 0):
                raise ConfigError("mask offsets must be positive and increasing")
            grid = np.linspace(0, sample_rate / 2, taps // 2 + 1)
            ldb = np.interp(np.log10(np.maximum(grid, f[0])), np.log10(f), [m[1] for m in mask])
            # two-sided phase PSD = L(f) (linear); white input of unit variance has PSD 1/fs
            gain = np.sqrt(10 ** (ldb / 10) * sample_rate)
            gain[0] = gain[1]
            self.fir = scipy.signal.firwin2(taps, grid, gain, fs=sample_rate).astype(np.float64)
            self.hist = np.zeros(taps - 1)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n = len(x)
        w = gaussian(self.seed, self.pos, n, stream=1).real.astype(np.float64) * np.sqrt(2)
        self.pos += n
        if self.fir is None:
            phi = self.phase + np.cumsum(w * self.sigma)
            if n:
                self.phase = float(phi[-1])
        else:
            ext = np.concatenate([self.hist, w])
            phi = np.convolve(ext, self.fir, mode="valid")
            self.hist = ext[ext.size - self.hist.size:]
        return (np.asarray(x, np.complex64) * np.exp(1j * phi)).astype(np.complex64)


class IqImbalance:
    """Receiver IQ gain (dB) and phase (degrees) imbalance: ``y = a x + b conj(x)`` with
    ``a = (1 + g e^{-j phi}) / 2``, ``b = (1 - g e^{j phi}) / 2``; image rejection |a|^2/|b|^2."""

    def __init__(self, gain_db: float = 0.0, phase_deg: float = 0.0):
        g, phi = 10 ** (gain_db / 20), np.deg2rad(phase_deg)
        self.a = np.complex64((1 + g * np.exp(-1j * phi)) / 2)
        self.b = np.complex64((1 - g * np.exp(1j * phi)) / 2)

    @property
    def image_rejection_db(self) -> float:
        return float(10 * np.log10(abs(self.a) ** 2 / max(abs(self.b) ** 2, 1e-300)))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.complex64)
        return self.a * x + self.b * np.conj(x)


class DcOffset:
    def __init__(self, offset: complex):
        self.offset = np.complex64(offset)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, np.complex64) + self.offset


class RappPa:
    """Power amplifier AM/AM compression (Rapp): ``|y| = g|x| / (1 + (g|x|/sat)^(2p))^(1/2p)``,
    phase unchanged. ``saturation`` is the output amplitude limit, ``p`` the smoothness."""

    def __init__(self, saturation: float = 1.0, p: float = 2.0, gain: float = 1.0):
        require_range("saturation", saturation, 1e-9)
        require_range("p", p, 0.1)
        self.sat, self.p, self.gain = saturation, p, gain

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.complex64) * np.float32(self.gain)
        a = np.abs(x)
        scale = 1 / (1 + (a / self.sat) ** (2 * self.p)) ** (1 / (2 * self.p))
        return (x * scale).astype(np.complex64)


class ImpulsiveNoise:
    """Bursts of Gaussian noise: a Poisson process of ``rate_hz`` bursts per second, each
    ``burst_s`` long, at ``power`` (linear, relative to a unit-power signal). Burst starts are
    drawn per 4096-sample block from seeded streams, so any chunking gives the same bursts."""

    def __init__(self, sample_rate: float, rate_hz: float, burst_s: float, power: float,
                 seed: int = 0):
        require_range("rate_hz", rate_hz, 0.0, sample_rate / 10)
        self.fs, self.rate, self.seed = float(sample_rate), float(rate_hz), seed
        self.length = max(1, int(round(burst_s * sample_rate)))
        self.sigma = np.float32(np.sqrt(power))
        self.pos = 0

    def starts(self, a: int, b: int) -> np.ndarray:
        """Burst start samples that cover any of ``a .. b-1``."""
        mean = self.rate * BLOCK / self.fs
        first = max(0, (a - self.length) // BLOCK)
        pts = np.concatenate([poisson_points(self.seed, 2, blk, mean)
                              for blk in range(first, (b - 1) // BLOCK + 1)])
        return pts[(pts < b) & (pts + self.length > a)].astype(np.int64)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        y = np.array(x, np.complex64)
        a, b = self.pos, self.pos + len(x)
        for s in self.starts(a, b):
            lo, hi = max(s, a), min(s + self.length, b)
            y[lo - a:hi - a] += gaussian(self.seed, lo, hi - lo, stream=3) * self.sigma
        self.pos = b
        return y


class SampleGaps:
    """Lose ``length`` samples every ``period`` samples (first loss at ``first``), to test
    re-synchronisation: ``mode="drop"`` removes them (a receiver overflow), ``"zero"`` replaces
    them by zeros (a signal fade). ``dropped`` counts the samples affected."""

    def __init__(self, period: int, length: int, first: int | None = None, mode: str = "drop"):
        from sdrcast.config import require_one_of

        require_range("period", period, 1)
        require_range("length", length, 0, period)
        require_one_of("mode", mode, ("drop", "zero"))
        self.period, self.length, self.mode = period, length, mode
        self.first = period - length if first is None else first
        self.pos = 0
        self.dropped = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.complex64)
        idx = self.pos + np.arange(len(x))
        lost = (idx >= self.first) & ((idx - self.first) % self.period < self.length)
        self.pos += len(x)
        self.dropped += int(lost.sum())
        if self.mode == "zero":
            return np.where(lost, np.complex64(0), x)
        return x[~lost]


class Chain:
    """Apply streaming stages in order."""

    def __init__(self, *stages):
        self.stages = stages

    def __call__(self, x: np.ndarray) -> np.ndarray:
        for s in self.stages:
            x = s(x)
        return x
