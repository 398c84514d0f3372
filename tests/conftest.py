"""Shared fixtures: repository paths, seeded RNG, availability of SoapySDR and GNU Radio."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# numba compiles on first call: no per-example deadline; CI runs a fixed, derandomised budget
settings.register_profile("sdrcast", deadline=None, max_examples=60, derandomize=True)
settings.load_profile("sdrcast")

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "vectors"
LOOPBACK_MODULE = ROOT / "build" / "loopback"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    return VECTORS


def _soapy_reason() -> str | None:
    try:
        import SoapySDR  # noqa: F401
    except ImportError:
        return "SoapySDR Python module not importable (install python3-soapysdr; run make test)"
    if not (LOOPBACK_MODULE / "libsdrcastLoopback.so").exists():
        return "sdrcast_loopback SoapySDR module not built (cmake + libsoapysdr-dev; run make test)"
    return None


@pytest.fixture(scope="session")
def soapy_loopback():
    """Point SoapySDR at the sdrcast_loopback module only (hermetic), or skip with the reason."""
    reason = _soapy_reason()
    if reason:
        pytest.skip(reason)
    os.environ["SOAPY_SDR_PLUGIN_PATH"] = str(LOOPBACK_MODULE)
    empty = ROOT / "build" / "soapy-root"
    empty.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SOAPY_SDR_ROOT", str(empty))
    return "driver=sdrcast_loopback"


GR_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="session")
def gnuradio_python() -> str:
    """Debian's python3 with GNU Radio 3.10 (gr-zeromq), or skip with the reason."""
    if not shutil.which(GR_PYTHON):
        pytest.skip(f"{GR_PYTHON} not found (GNU Radio runs under Debian's python3)")
    r = subprocess.run([GR_PYTHON, "-c", "from gnuradio import gr, zeromq, blocks; print(gr.version())"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode:
        pytest.skip("GNU Radio with gr-zeromq not installed (apt-get install gnuradio): "
                    + r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "import failed")
    return GR_PYTHON
