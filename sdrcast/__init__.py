"""sdrcast: a software-defined-radio stack for terrestrial broadcast (ATSC 3.0, DTMB, FeMBMS)."""
import os

# The kernels run on sdrcast's own threads (phy.parallel); BLAS threads would only spin beside
# them (OpenBLAS workers busy-wait after each call). Set before numpy loads, unless the user chose.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from sdrcast.errors import ConfigError, DeviceError, SdrcastError, SyncLost

__version__ = "0.1.0"
__all__ = ["ConfigError", "DeviceError", "SdrcastError", "SyncLost", "__version__"]
