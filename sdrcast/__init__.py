"""sdrcast: a software-defined-radio stack for terrestrial broadcast (ATSC 3.0, DTMB, FeMBMS)."""
from sdrcast.errors import ConfigError, DeviceError, SdrcastError, SyncLost

__version__ = "0.1.0"
__all__ = ["ConfigError", "DeviceError", "SdrcastError", "SyncLost", "__version__"]
