"""A/321 bootstrap: four 500 us symbols at 6.144 Msps that announce the frame and signal its
first preamble (``bootstrap.json``, ``bootstrap_signalling.json``).

Each symbol's 2048-point spectrum is the Zadoff-Chu sequence (N_ZC = 1499, root 137) on the
1499 carriers around DC (DC nulled), modulated by a PN sequence (x^16+x^15+x^14+x+1, seed per
minor version, continuing across symbols) that is mirrored about DC. Symbol n carries 8 bits as
a cyclic shift of its time-domain A part: the Gray-coded relative shift of its signalling byte,
accumulated (M_0 = 0). Symbol 0 is C-A-B, the others B-C-A (C = last 520 samples of A, B = the
last 504 or 520 samples of A frequency-shifted by one carrier); the last symbol is inverted.
Signalling: symbol 1 ea_wake_up_1 | min_time_to_next | system_bandwidth, symbol 2
ea_wake_up_2 | bsr_coefficient, symbol 3 preamble_structure (A/322 Annex H).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from sdrcast.config import require_range
from sdrcast.errors import ConfigError, SyncLost
from sdrcast.phy.tables import load_json

SAMPLE_RATE = 6.144e6
N_FFT, N_ZC, N_B, N_C = 2048, 1499, 504, 520
MAX_LEAD = 64  # samples symbol 0's strongest path may sit from no shift (echoes, timing)
SYMBOL_SAMPLES = N_FFT + N_B + N_C


@dataclass(frozen=True)
class BootstrapFields:
    """The signalled fields (A/321 6.1, major version 0)."""

    min_time_to_next: int = 0  # code 0..31 (0 = 50 ms)
    system_bandwidth: int = 0  # 0: 6 MHz, 1: 7 MHz, 2: 8 MHz, 3: > 8 MHz
    bsr_coefficient: int = 2  # F_s = (N + 16) * 0.384 MHz
    preamble_structure: int = 0  # A/322 Annex H row
    ea_wake_up: int = 0  # two bits: (ea_wake_up_1, ea_wake_up_2)
    minor_version: int = 0

    def __post_init__(self):
        require_range("min_time_to_next", self.min_time_to_next, 0, 31)
        require_range("system_bandwidth", self.system_bandwidth, 0, 3)
        require_range("bsr_coefficient", self.bsr_coefficient, 0, 127)
        require_range("preamble_structure", self.preamble_structure, 0, 159)
        require_range("ea_wake_up", self.ea_wake_up, 0, 3)
        require_range("minor_version", self.minor_version, 0, 7)

    def symbol_bytes(self) -> tuple[int, int, int]:
        return ((self.ea_wake_up >> 1) << 7 | self.min_time_to_next << 2 | self.system_bandwidth,
                (self.ea_wake_up & 1) << 7 | self.bsr_coefficient,
                self.preamble_structure)


def preamble_structure(fft: int, gi: int, preamble_dx: int, l1b_mode: int) -> int:
    """A/322 Annex H code for the first preamble symbol."""
    for row in load_json("atsc3", "bootstrap_signalling.json")["preamble_structure_table"]:
        if (row["fft"], row["GI"], row["preamble_Dx"], row["L1B_fec_mode"]) == (fft, gi, preamble_dx,
                                                                             l1b_mode):
            return row["preamble_structure"]
    raise ConfigError(f"no A/322 Annex H preamble_structure for fft_size={fft}, GI{gi}, preamble "
                      f"Dx {preamble_dx}, L1-Basic FEC mode {l1b_mode} (the table signals modes "
                      "1..5; give preamble_structure explicitly to send another code)")


def annex_h(code: int) -> dict:
    """The A/322 Annex H row a ``preamble_structure`` code signals: fft, GI, preamble_Dx,
    L1B_fec_mode (the inverse of ``preamble_structure``)."""
    for row in load_json("atsc3", "bootstrap_signalling.json")["preamble_structure_table"]:
        if row["preamble_structure"] == code:
            return row
    raise ConfigError(f"preamble_structure={code} is not in A/322 Annex H")


@cache
def _spectra(minor_version: int, symbols: int) -> np.ndarray:
    """Frequency-domain symbols (2048 bins, numpy order, DC at 0)."""
    spec = load_json("atsc3", "bootstrap.json")
    q = spec["zadoff_chu"]["root_q_major_version_0"]
    k = np.arange(N_ZC)
    zc = np.exp(-1j * np.pi * q * k * (k + 1) / N_ZC)
    sr = int(spec["pn_sequence"]["seed_r_init_per_minor_version"][str(minor_version)], 16)
    half = (N_ZC - 1) // 2
    out = np.zeros((symbols, N_FFT), np.complex128)
    for s in range(symbols):
        p = np.empty(half)
        for i in range(half):
            p[i] = 1 - 2 * (sr & 1)
            fb = (sr ^ (sr >> 1) ^ (sr >> 14) ^ (sr >> 15) ^ (sr >> 16)) & 1
            sr = (sr >> 1) | (fb << 15)
        pn = np.concatenate([p, [0.0], p[::-1]])  # element half = DC, nulled
        carriers = np.arange(-half, half + 1)
        out[s, carriers % N_FFT] = zc * pn
    return out


def relative_shift(byte: int) -> int:
    return load_json("atsc3", "bootstrap_signalling.json")["relative_shift_lut_by_symbol_byte"][byte]


def native(fields: BootstrapFields, rate: float) -> np.ndarray:
    """The bootstrap evaluated directly at ``rate`` (the baseband rate): each symbol's C, A and
    B parts are the band-limited continuous-time signals the 6.144 Msps samples define, taken at
    the instants m / rate, so no resampling filter shapes them. 4 x 3072 x rate / 6.144 MHz
    samples (a whole number for every (N + 16) x 0.384 MHz rate)."""
    r = rate / SAMPLE_RATE
    n_out = round(SYMBOL_SAMPLES * r)
    if abs(n_out - SYMBOL_SAMPLES * r) > 1e-9:
        raise ConfigError(f"rate={rate} Hz: a bootstrap symbol is not a whole number of samples")
    spectra = _spectra(fields.minor_version, 4)
    half = (N_ZC - 1) // 2
    k = np.arange(-half, half + 1)
    shifts = [0]
    for b in fields.symbol_bytes():
        shifts.append((shifts[-1] + relative_shift(b)) % N_FFT)
    m = round(N_FFT * r)  # the A part's period in output samples
    t = np.arange(n_out) / r  # sample instants in 6.144 Msps sample units

    def a_part(s: int, offset: float, idx: np.ndarray) -> np.ndarray:
        """The shifted A part at instants t[idx] + offset: one m-point IFFT of its spectrum
        (band-limited, so exact), read at those instants' grid positions."""
        x = np.zeros(m, np.complex128)
        x[k % m] = spectra[s, k % N_FFT] * np.exp(2j * np.pi * k * (offset + shifts[s]) / N_FFT)
        return (np.fft.ifft(x) * m / np.sqrt(N_ZC - 1))[idx % m]

    out = []
    for s in range(4):
        sym = np.empty(n_out, np.complex128)
        idx = np.arange(n_out)
        if s == 0:  # C-A-B
            bounds = [(0, N_C, N_FFT - N_C, 0), (N_C, N_C + N_FFT, -N_C, 0),
                      (N_C + N_FFT, SYMBOL_SAMPLES, -N_C - N_B, 1)]
        else:  # B-C-A
            bounds = [(0, N_B, N_FFT - N_C, -1), (N_B, N_B + N_C, N_FFT - N_C - N_B, 0),
                      (N_B + N_C, SYMBOL_SAMPLES, -N_B - N_C, 0)]
        for lo, hi, offset, shift in bounds:
            sel = idx[(t >= lo) & (t < hi)]
            part = a_part(s, offset, sel)
            if shift == 1:  # C-A-B's B: one carrier up, phase from the C part's start
                part *= np.exp(2j * np.pi * (t[sel] - N_FFT) / N_FFT)
            elif shift == -1:  # B-C-A's B: one carrier down
                part *= np.exp(-2j * np.pi * (t[sel] - N_C) / N_FFT)
            sym[sel] = part
        out.append(-sym if s == 3 else sym)
    return np.concatenate(out).astype(np.complex64)


def bootstrap(fields: BootstrapFields = BootstrapFields()) -> np.ndarray:
    """The four bootstrap symbols at 6.144 Msps (4 x 3072 complex64 samples)."""
    spectra = _spectra(fields.minor_version, 4)
    shifts = [0]
    for b in fields.symbol_bytes():
        shifts.append((shifts[-1] + relative_shift(b)) % N_FFT)
    n = np.arange(N_B + N_C)
    out = []
    for s in range(4):
        a = np.roll(np.fft.ifft(spectra[s]) * N_FFT / np.sqrt(N_ZC - 1), -shifts[s])
        c = a[-N_C:]
        if s == 0:  # C-A-B
            b = a[N_FFT - N_B:] * np.exp(2j * np.pi * (n[:N_B] + N_C) / N_FFT)
            sym = np.concatenate([c, a, b])
        else:  # B-C-A
            b = a[N_FFT - N_C:N_FFT - N_C + N_B] * np.exp(-2j * np.pi * (n[:N_B] - N_C) / N_FFT)
            sym = np.concatenate([b, c, a])
        out.append(-sym if s == 3 else sym)
    return np.concatenate(out).astype(np.complex64)


def decode(samples: np.ndarray, minor_version: int = 0) -> BootstrapFields:
    """Read the signalled fields back from four bootstrap symbols at 6.144 Msps: each symbol's
    A part is correlated (circularly) with the unshifted Zadoff-Chu/PN symbol, which gives
    its delay profile; the shift step from one symbol to the next is the one, among those the
    signalling can take (A/321 5.3), that lines the two profiles up best. Whole profiles are
    compared, not their peaks: under multipath two echoes can be nearly as strong, the
    strongest changes from symbol to symbol, and peak positions gave invalid steps (TU-6 at
    120 km/h lost half its acquisitions so); a timing error or clock drift moves both profiles
    alike. Works at any received level. Raises ``SyncLost`` if a symbol does not correlate
    (normalised peak under 0.3: below about -10 dB SNR), ``ConfigError`` if symbol 0 is
    shifted by more than ``MAX_LEAD`` samples."""
    x = np.asarray(samples, np.complex128).reshape(4, SYMBOL_SAMPLES)
    spectra = _spectra(minor_version, 4)
    lut = np.asarray(load_json("atsc3", "bootstrap_signalling.json")["relative_shift_lut_by_symbol_byte"])
    profiles = []
    for s in range(4):
        a = x[s, N_C:N_C + N_FFT] if s == 0 else x[s, N_B + N_C:]
        ref = np.fft.ifft(spectra[s]) * N_FFT / np.sqrt(N_ZC - 1)
        corr = np.abs(np.fft.ifft(np.fft.fft(a) * np.conj(np.fft.fft(ref))))  # peak at -M (mod N)
        # normalised: the received level is whatever the radio's gain made it
        if corr.max() < 0.3 * np.sqrt(np.vdot(ref, ref).real * np.vdot(a, a).real):
            raise SyncLost(f"bootstrap symbol {s} does not match its Zadoff-Chu/PN sequence")
        profiles.append(corr)
    lead = (-int(np.argmax(profiles[0])) + N_FFT // 2) % N_FFT - N_FFT // 2
    if abs(lead) > MAX_LEAD:
        raise ConfigError(f"bootstrap symbol 0 is cyclically shifted by {lead}; expected 0")
    b = []
    for n in (1, 2, 3):  # r[d] = sum_t p_{n-1}[t + d] p_n[t]: symbol n is n-1 moved by d
        r = np.fft.ifft(np.fft.fft(profiles[n - 1]) * np.conj(np.fft.fft(profiles[n]))).real
        b.append(int(np.argmax(r[lut % N_FFT])))
    return BootstrapFields(min_time_to_next=(b[0] >> 2) & 0x1F, system_bandwidth=b[0] & 3,
                           bsr_coefficient=b[1] & 0x7F, preamble_structure=b[2],
                           ea_wake_up=(b[0] >> 7) << 1 | (b[1] >> 7), minor_version=minor_version)
