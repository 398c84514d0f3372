"""ATSC 3.0 physical layer (A/321 bootstrap, A/322)."""
from sdrcast.phy.atsc3.config import Atsc3Config, PlpConfig, SubframeConfig
from sdrcast.phy.atsc3.transmitter import Atsc3Transmitter

__all__ = ["Atsc3Config", "Atsc3Transmitter", "PlpConfig", "SubframeConfig"]
