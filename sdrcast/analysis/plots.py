"""PNG plots (matplotlib, Agg): spectrum, constellation, waterfall, channel response over time,
error rates against SNR."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sdrcast.analysis.metrics import occupied_bandwidth, welch_psd  # noqa: E402

KINDS = ("spectrum", "constellation", "waterfall", "channel", "error-rate")
HANN_ENBW = 1.5  # the Hann window's equivalent noise bandwidth, in bins


def _freq_axis(f: np.ndarray, center_freq: float | None) -> tuple[np.ndarray, str]:
    if center_freq:
        return (f + center_freq) / 1e6, f"frequency (MHz, centre {center_freq / 1e6:g} MHz)"
    return f / 1e6, "frequency offset (MHz)"


def spectrum(x: np.ndarray, sample_rate: float, path: str | Path, center_freq: float | None = None,
             title: str = "", nfft: int = 4096) -> Path:
    """Welch PSD (Hann, ``nfft`` bins) as power per resolution bandwidth in dBFS (a full-scale
    complex tone, |x| = 1, reads 0 dBFS), with the RBW and the 99 % occupied bandwidth shown."""
    f, p = welch_psd(x, sample_rate, nfft)
    rbw = HANN_ENBW * (f[1] - f[0])  # bins as welch_psd made them
    obw = occupied_bandwidth(x, sample_rate, 0.99, nfft)
    fx, label = _freq_axis(f, center_freq)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(fx, 10 * np.log10(np.maximum(p * rbw, 1e-30)), lw=0.8)
    for edge in (obw["low_hz"], obw["high_hz"]):
        ax.axvline(_freq_axis(np.array([edge]), center_freq)[0][0], color="r", ls="--", lw=0.8)
    ax.set_xlabel(label)
    ax.set_ylabel(f"power (dBFS in RBW {rbw / 1e3:.3g} kHz)")
    ax.set_title(f"{title}  fs = {sample_rate / 1e6:g} Msps, RBW {rbw / 1e3:.3g} kHz, 99 % OBW "
                 f"= {obw['bandwidth_hz'] / 1e6:.3f} MHz".strip())
    ax.grid(alpha=0.3)
    return _save(fig, path)


def constellation(symbols: np.ndarray, path: str | Path, mer_db: float | None = None,
                  title: str = "", max_points: int = 20000) -> Path:
    """Scatter of equalised symbols, MER in the title when given."""
    s = np.asarray(symbols)
    if s.size > max_points:
        s = s[np.linspace(0, s.size - 1, max_points).astype(int)]
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot(s.real, s.imag, ".", ms=1.5, alpha=0.5)
    lim = 1.15 * max(np.max(np.abs(s.real)), np.max(np.abs(s.imag)), 1e-9)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)
    ax.set_xlabel("I")
    ax.set_ylabel("Q")
    ax.set_title(f"{title}  MER {mer_db:.1f} dB".strip() if mer_db is not None else title)
    return _save(fig, path)


def waterfall(x: np.ndarray, sample_rate: float, path: str | Path,
              center_freq: float | None = None, nfft: int = 1024, title: str = "") -> Path:
    """Spectrogram (time down, frequency across): power per bin in dBFS (a full-scale tone reads
    0 dBFS), colours from the data's 2nd percentile to its peak."""
    n_rows = max(1, x.size // nfft)
    win = np.hanning(nfft)
    frames = x[:n_rows * nfft].reshape(n_rows, nfft) * win
    p = np.fft.fftshift(np.abs(np.fft.fft(frames, axis=1)) ** 2, axes=1) / win.sum() ** 2
    db = 10 * np.log10(np.maximum(p, 1e-30))
    f = np.fft.fftshift(np.fft.fftfreq(nfft, 1 / sample_rate))
    fx, label = _freq_axis(f, center_freq)
    fig, ax = plt.subplots(figsize=(8, 5))
    im = ax.imshow(db, aspect="auto", origin="upper", vmin=float(np.percentile(db, 2)),
                   vmax=float(db.max()), extent=(fx[0], fx[-1], x.size / sample_rate * 1e3, 0),
                   cmap="viridis")
    fig.colorbar(im, ax=ax, label=f"dBFS per bin (RBW {HANN_ENBW * sample_rate / nfft / 1e3:.3g} kHz)")
    ax.set_xlabel(label)
    ax.set_ylabel("time (ms)")
    ax.set_title(title or "waterfall")
    return _save(fig, path)


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def channel_response(channel, path: str | Path, duration_s: float = 1.0, points: int = 200,
                     nfft: int = 512, title: str = "") -> Path:
    """Tap magnitudes (impulse response) and frequency response of a ``TdlChannel`` over time."""
    step = max(1, int(duration_s * channel.sample_rate / points))
    g = channel.gains(0, points, step)  # [time, taps]
    delays = channel.profile.delays_us
    t_ms = np.arange(points) * step / channel.sample_rate * 1e3
    f = np.fft.fftshift(np.fft.fftfreq(nfft, 1 / channel.sample_rate))
    H = np.exp(-2j * np.pi * np.outer(f, delays * 1e-6)) @ g.T  # [freq, time]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for k in range(g.shape[1]):
        axes[0].plot(t_ms, 20 * np.log10(np.abs(g[:, k]) + 1e-12), lw=0.8,
                     label=f"{delays[k]:g} µs")
    axes[0].set_xlabel("time (ms)")
    axes[0].set_ylabel("tap gain (dB)")
    axes[0].legend(fontsize=7)
    axes[0].grid(alpha=0.3)
    im = axes[1].imshow(20 * np.log10(np.abs(H) + 1e-12), aspect="auto", origin="lower",
                        extent=(t_ms[0], t_ms[-1], f[0] / 1e6, f[-1] / 1e6), cmap="viridis",
                        vmin=-30, vmax=10)
    fig.colorbar(im, ax=axes[1], label="|H| (dB)")
    axes[1].set_xlabel("time (ms)")
    axes[1].set_ylabel("frequency (MHz)")
    fig.suptitle(title or f"{channel.profile.name}, f_D = {channel.doppler:.1f} Hz")
    return _save(fig, path)


def error_rates(rows: list[dict], path: str | Path, title: str = "",
                bounds: dict[str, tuple[list[float], list[float]]] | None = None) -> Path:
    """BER and FER (with 95 % intervals) against SNR; ``bounds`` adds labelled reference curves
    (theory, capacity limits, published thresholds)."""
    fig, ax = plt.subplots(figsize=(7, 5))
    snr = np.array([r["snr_db"] for r in rows])
    for key, style in (("ber", "-o"), ("fer", "-s")):
        y = np.array([r[key] if r[key] else np.nan for r in rows], float)
        ax.semilogy(snr, y, style, ms=4, label=key.upper())
    hi = [r["fer_ci95"][1] for r in rows]
    zero = np.array([not r["fer"] for r in rows], bool)
    if zero.any():  # error-free points still say something: FER below their upper bound
        ax.semilogy(snr[zero], np.array(hi)[zero], "v", mfc="none", color="C1", ms=6,
                    label="no frame error: FER 95 % upper bound")
    lo = [r["fer_ci95"][0] for r in rows]
    ax.fill_between(snr, np.maximum(lo, 1e-9), hi, alpha=0.15, label="FER 95 % CI")
    for label, (x, y) in (bounds or {}).items():
        ax.semilogy(x, y, "k--", lw=1, label=label)
    ax.set_xlabel("SNR Es/N0 (dB)")
    ax.set_ylabel("error rate")
    ax.set_ylim(bottom=1e-7)
    ax.grid(which="both", alpha=0.3)
    ax.legend()
    ax.set_title(title)
    return _save(fig, path)


def fer_curves(curves: dict[str, list[dict]], path: str | Path, title: str = "") -> Path:
    """FER against SNR for several links (``curves``: label -> sweep result rows); zero-error
    points are drawn at the 95 % upper bound, open markers."""
    fig, ax = plt.subplots(figsize=(7, 5))
    for label, rows in curves.items():
        snr = np.array([r["snr_db"] for r in rows])
        fer = np.array([r["fer"] for r in rows], float)
        line, = ax.semilogy(snr[fer > 0], fer[fer > 0], "-o", ms=4, label=label)
        zero = fer == 0
        if zero.any():
            ax.semilogy(snr[zero], [r["fer_ci95"][1] for r, z in zip(rows, zero, strict=True) if z],
                        "v", mfc="none", color=line.get_color(), ms=5)
    ax.set_xlabel("SNR Es/N0 (dB)")
    ax.set_ylabel("FER (open: no error seen, 95 % upper bound)")
    ax.grid(which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    return _save(fig, path)

