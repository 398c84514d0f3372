"""A generic OFDM + QAM reference link (not a broadcast standard).

Used by the demo before the standards exist and by the sweep harness as a known-good link: one
preamble symbol of known BPSK cells (least-squares channel estimate), then data symbols of Gray
QAM on ``n_carriers`` centred carriers with DC left empty.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sdrcast.config import require_one_of, require_range
from sdrcast.errors import ConfigError
from sdrcast.phy.kernels.prbs import prbs
from sdrcast.phy.mapping import Constellation
from sdrcast.phy.ofdm import modem


@dataclass(frozen=True)
class ReferenceLinkConfig:
    """``order``: QAM order; ``nfft``/``cp_len``: OFDM; ``n_carriers``: used carriers (even);
    ``data_symbols``: OFDM data symbols per frame; ``sample_rate`` in Hz."""

    order: int = 16
    nfft: int = 1024
    cp_len: int = 128
    n_carriers: int = 840
    data_symbols: int = 14
    sample_rate: float = 8e6

    def __post_init__(self):
        require_one_of("order", self.order, (4, 16, 64, 256, 1024, 4096))
        require_one_of("nfft", self.nfft, (64, 128, 256, 512, 1024, 2048, 4096, 8192))
        require_range("cp_len", self.cp_len, 0, self.nfft)
        require_range("n_carriers", self.n_carriers, 2, self.nfft - 2)
        if self.n_carriers % 2:
            raise ConfigError(f"n_carriers={self.n_carriers} must be even (DC is left empty)")
        require_range("data_symbols", self.data_symbols, 1)
        require_range("sample_rate", self.sample_rate, 1.0)

    @property
    def bits_per_frame(self) -> int:
        return self.data_symbols * self.n_carriers * (self.order.bit_length() - 1)

    @property
    def samples_per_frame(self) -> int:
        return (1 + self.data_symbols) * (self.nfft + self.cp_len)

    @property
    def occupied_bandwidth(self) -> float:
        """Hz spanned by the used carriers."""
        return self.n_carriers * self.sample_rate / self.nfft

    @property
    def bit_rate(self) -> float:
        """Payload bits per second."""
        return self.bits_per_frame * self.sample_rate / self.samples_per_frame


class ReferenceLink:
    """Modulator and demodulator of the reference link (frame-aligned input)."""

    def __init__(self, cfg: ReferenceLinkConfig | None = None):
        self.cfg = cfg = cfg or ReferenceLinkConfig()
        self.qam = Constellation.qam(cfg.order)
        half = cfg.n_carriers // 2
        c = cfg.nfft // 2
        self.carriers = np.r_[c - half:c, c + 1:c + 1 + half]
        self.pilots = (1 - 2 * prbs(11, cfg.n_carriers).astype(np.float32)).astype(np.complex64)
        # unit power per used carrier -> time samples of mean power n_carriers / nfft; rescale to 1
        self.scale = np.float32(np.sqrt(cfg.nfft / cfg.n_carriers))

    def modulate(self, bits: np.ndarray) -> np.ndarray:
        """Bits (a whole number of frames) -> complex64 samples at unit mean power."""
        cfg = self.cfg
        bits = np.asarray(bits, np.uint8)
        if bits.size % cfg.bits_per_frame:
            raise ConfigError(f"{bits.size} bits is not a whole number of frames of "
                              f"{cfg.bits_per_frame} bits")
        n_frames = bits.size // cfg.bits_per_frame
        cells = self.qam.map(bits).reshape(n_frames, cfg.data_symbols, cfg.n_carriers)
        grid = np.zeros((n_frames, 1 + cfg.data_symbols, cfg.nfft), np.complex64)
        grid[:, 0, self.carriers] = self.pilots
        grid[:, 1:, self.carriers] = cells
        return modem.modulate(grid.reshape(-1, cfg.nfft), cfg.cp_len) * self.scale

    def demodulate(self, iq: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
        """Samples (whole frames) -> (LLRs, equalised data cells, report with snr_db/mer_db)."""
        cfg = self.cfg
        iq = np.asarray(iq, np.complex64)
        n_frames = iq.size // cfg.samples_per_frame
        if n_frames == 0 or iq.size % cfg.samples_per_frame:
            raise ConfigError(f"{iq.size} samples is not a whole number of frames of "
                              f"{cfg.samples_per_frame} samples")
        grid = modem.demodulate(iq / self.scale, cfg.nfft, cfg.cp_len)
        grid = grid.reshape(n_frames, 1 + cfg.data_symbols, cfg.nfft)[:, :, self.carriers]
        h = grid[:, :1, :] / self.pilots  # LS estimate per frame and carrier
        # DFT-domain smoothing: keep the impulse-response taps that fit in the cyclic prefix
        taps = np.fft.ifft(h, axis=-1)
        keep = int(np.ceil(cfg.cp_len * cfg.n_carriers / cfg.nfft)) + 1
        taps[..., keep:taps.shape[-1] - 4] = 0  # 4 taps of slack for early timing
        h = np.fft.fft(taps, axis=-1)
        eq = (grid[:, 1:, :] / h).reshape(-1)
        ideal = self.qam.points[self.qam.decide(eq)]
        # decision-directed noise estimate (reliable above ~10 dB MER, optimistic below)
        noise_var = max(float(np.mean(np.abs(eq - ideal) ** 2)), 1e-12)
        llr = self.qam.demap(eq, noise_var)
        mer = float(10 * np.log10(np.mean(np.abs(ideal) ** 2) / noise_var))
        return llr, eq, {"frames": n_frames, "mer_db": mer, "noise_var": noise_var}
