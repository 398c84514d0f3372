"""Tapped-delay-line fading channel: static, Rayleigh, Rician and Doppler-shifted taps with a
Clarke/Jakes Doppler spectrum (sum of sinusoids), fractional delays, streaming.

Tap gains are a deterministic function of the absolute sample index (evaluated on a grid of
``update`` samples and interpolated linearly), and the delay line keeps its history, so any
chunking of the input gives the same output.
"""
from __future__ import annotations

import numpy as np

from sdrcast.channel.profiles import Profile
from sdrcast.config import require_range
from sdrcast.errors import ConfigError
from sdrcast.phy.kernels.fading import tdl_filter

C_LIGHT = 299_792_458.0


def doppler_hz(speed_kmh: float, carrier_hz: float) -> float:
    """Maximum Doppler shift f_D = v f_c / c."""
    return speed_kmh / 3.6 * carrier_hz / C_LIGHT


class TdlChannel:
    """Streaming multipath fading: ``y = sum_k g_k(t) x(t - tau_k)``.

    ``doppler`` is the maximum Doppler f_D in Hz, or pass ``speed_kmh`` and ``carrier_hz``.
    Total mean tap power is 1 (``normalize``). Fractional delays use a windowed-sinc
    interpolator of ``2 * half_len`` taps, which delays the whole output by ``latency`` samples
    (0 when every delay is a whole number of samples).
    """

    def __init__(self, profile: Profile | str, sample_rate: float, doppler: float = 0.0, *,
                 speed_kmh: float | None = None, carrier_hz: float | None = None, seed: int = 0,
                 sinusoids: int = 32, normalize: bool = True, half_len: int = 8):
        self.profile = Profile.load(profile) if isinstance(profile, str) else profile
        require_range("sample_rate", sample_rate, 1.0)
        if speed_kmh is not None:
            if carrier_hz is None:
                raise ConfigError("speed_kmh needs carrier_hz to give a Doppler shift")
            doppler = doppler_hz(speed_kmh, carrier_hz)
        require_range("doppler", doppler, 0.0, sample_rate / 20)
        self.sample_rate, self.doppler = float(sample_rate), float(doppler)
        taps = self.profile.taps
        p = self.profile.powers if normalize else 10 ** (np.array([t.power_db for t in taps]) / 10)
        self.amplitudes = np.sqrt(p)
        rng = np.random.default_rng(seed)
        n = sinusoids
        # random arrival angles, one per sinusoid, stratified over the circle (Clarke model)
        self.angles = 2 * np.pi * (np.arange(n) + rng.random((len(taps), n))) / n
        self.phases = 2 * np.pi * rng.random((len(taps), n))
        self.los_phase = 2 * np.pi * rng.random(len(taps))
        self.update = int(max(1, min(256, sample_rate / (200 * doppler)))) if doppler else 4096
        self._fir(half_len)
        self.pos = 0
        self.history = np.zeros(self.off.max() + self.coef.shape[1], np.complex64)

    def _fir(self, half_len: int) -> None:
        d = self.profile.delays_us * 1e-6 * self.sample_rate
        frac = np.abs(d - np.round(d)) > 1e-6
        if not frac.any():
            self.latency = 0
            self.coef = np.ones((d.size, 1), np.float32)
            self.off = np.round(d).astype(np.int64)
            return
        self.latency = half_len
        L = 2 * half_len
        self.coef = np.zeros((d.size, L), np.float32)
        self.off = np.zeros(d.size, np.int64)
        for k, tau in enumerate(d + half_len):  # bulk latency keeps every filter causal
            start = int(np.floor(tau)) - half_len + 1
            j = start + np.arange(L)
            w = np.kaiser(L, 6.0)
            c = np.sinc(j - tau) * w
            self.coef[k] = c / c.sum()  # unit DC gain; coef[k, c] multiplies x[n - off[k] - c]
            self.off[k] = start

    def gains(self, start: int, n: int, step: int = 1) -> np.ndarray:
        """Complex tap gains ``[n, taps]`` at absolute samples ``start, start + step, ...``."""
        return self._gains_at((start + step * np.arange(n)) / self.sample_rate)

    def _gains_at(self, t: np.ndarray) -> np.ndarray:
        out = np.empty((t.size, len(self.profile.taps)), np.complex64)
        fd = self.doppler
        for k, tap in enumerate(self.profile.taps):
            los = np.exp(1j * (2 * np.pi * tap.doppler_ratio * fd * t + self.los_phase[k]))
            if tap.kind == "static":
                g = np.ones_like(t, complex)
            elif tap.kind == "doppler":
                g = los
            else:
                w = 2 * np.pi * fd * np.cos(self.angles[k])
                g = np.exp(1j * (np.outer(t, w) + self.phases[k])).sum(axis=1) / np.sqrt(w.size)
                if tap.kind == "rician":
                    kf = 10 ** (tap.k_db / 10)
                    g = np.sqrt(kf / (kf + 1)) * los + np.sqrt(1 / (kf + 1)) * g
            out[:, k] = self.amplitudes[k] * g
        return out

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.complex64)
        n = x.size
        if n == 0:
            return x.copy()
        u = self.update
        g0 = self.pos // u
        g1 = (self.pos + n - 1) // u + 1
        grid = self._gains_at(np.arange(g0, g1 + 1) * u / self.sample_rate)
        x_ext = np.concatenate([self.history, x])
        y = tdl_filter(x_ext, self.history.size, grid, g0, u, self.pos, self.coef, self.off)
        self.history = x_ext[x_ext.size - self.history.size:].copy()
        self.pos += n
        return y
