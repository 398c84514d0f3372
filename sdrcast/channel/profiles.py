"""Tapped-delay-line profiles: data files in ``channel/profiles/`` (see its README)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from sdrcast.config import require_one_of, require_range
from sdrcast.errors import ConfigError

KINDS = ("rayleigh", "rician", "static", "doppler")


@dataclass(frozen=True)
class Tap:
    """One path: delay (µs), mean power (dB), fading ``kind``; ``k_db`` (Rician K) and
    ``doppler_ratio`` (frequency of the direct/shifted component as a fraction of f_D)."""

    delay_us: float
    power_db: float
    kind: str = "rayleigh"
    k_db: float | None = None
    doppler_ratio: float = 0.0

    def __post_init__(self):
        require_one_of("kind", self.kind, KINDS)
        require_range("delay_us", self.delay_us, 0.0)
        if self.kind == "rician" and self.k_db is None:
            raise ConfigError("a rician tap needs k_db (the K-factor in dB)")
        require_range("doppler_ratio", self.doppler_ratio, -1.0, 1.0)


@dataclass(frozen=True)
class Profile:
    name: str
    taps: tuple[Tap, ...]
    source: str = ""
    note: str = field(default="", compare=False)

    def __post_init__(self):
        if not self.taps:
            raise ConfigError(f"profile {self.name!r} has no taps")

    @property
    def powers(self) -> np.ndarray:
        """Linear tap powers normalised to a total of 1."""
        p = 10 ** (np.array([t.power_db for t in self.taps]) / 10)
        return p / p.sum()

    @property
    def delays_us(self) -> np.ndarray:
        return np.array([t.delay_us for t in self.taps])

    @staticmethod
    def names() -> list[str]:
        base = resources.files("sdrcast.channel").joinpath("profiles")
        return sorted(p.name.removesuffix(".json") for p in base.iterdir() if p.name.endswith(".json"))

    @classmethod
    def load(cls, name_or_path: str | Path) -> Profile:
        """A built-in profile by name (``tu6``, ``etu``, ...) or a JSON file of the same layout."""
        p = Path(str(name_or_path))
        if p.suffix == ".json" and p.is_file():
            text = p.read_text()
        else:
            if str(name_or_path) not in cls.names():
                raise ConfigError(f"channel profile {str(name_or_path)!r} is unknown; built in: "
                                  f"{cls.names()} (or a .json file)")
            text = resources.files("sdrcast.channel").joinpath(
                "profiles", f"{name_or_path}.json").read_text()
        d = json.loads(text)
        return cls(d["name"], tuple(Tap(**t) for t in d["taps"]), d.get("source", ""),
                   d.get("note", ""))

    @classmethod
    def two_path(cls, delay_us: float, power_db: float = 0.0, kind: str = "static") -> Profile:
        """Main path plus one echo ``delay_us`` later at ``power_db``."""
        return cls(f"two-path {delay_us:g} us {power_db:g} dB",
                   (Tap(0.0, 0.0, kind), Tap(delay_us, power_db, kind)), "sdrcast")
