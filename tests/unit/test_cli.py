"""The sdrcast command: each subcommand works, and bad input gives one line, no traceback."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from sdrcast.cli import main
from sdrcast.sdr_io import read_samples, write_samples


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "sdrcast", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


@pytest.fixture
def recording(tmp_path):
    x = (np.exp(2j * np.pi * 0.05 * np.arange(50_000)) * 0.5).astype(np.complex64)
    write_samples(tmp_path / "rec.sigmf-data", x, 2e6, 600e6)
    return tmp_path / "rec.sigmf-meta"


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("sdrcast ")
    for cmd in ("devices", "info", "plot", "convert", "sweep", "tx", "rx", "demo"):
        h = run(cmd, "--help")
        assert h.returncode == 0 and "examples:" in h.stdout, cmd


def test_info_reports_format_rate_duration_power(recording, capsys):
    assert main(["info", str(recording), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["format"] == "cf32" and info["sample_rate"] == 2e6 and info["center_freq"] == 600e6
    assert info["duration_s"] == pytest.approx(0.025)
    assert info["mean_power_dbfs"] == pytest.approx(-6.02, abs=0.01)


@pytest.mark.parametrize("kind", ["spectrum", "constellation", "waterfall"])
def test_plot_writes_png(recording, tmp_path, kind):
    out = tmp_path / f"{kind}.png"
    assert main(["plot", str(recording), "--kind", kind, "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_convert_file_to_file_with_duration(recording, tmp_path):
    out = tmp_path / "cut.cs16"
    assert main(["convert", str(recording), str(out), "--duration", "0.01", "--quiet"]) == 0
    got, _ = read_samples(out)
    assert got.size == 20_000


@pytest.mark.parametrize("args, message", [
    (["info", "missing.cf32"], "does not exist"),
    (["info", "file.weird"], "extension"),
    (["plot", "x.cf32", "-o", "y.png"], "does not exist"),
    (["convert", "zmq+pull://127.0.0.1:1", "o.cf32", "--timeout", "0.5", "--quiet"], "no data"),
    (["convert", "zmq+pub://127.0.0.1:1", "o.cf32"], "cannot be a source"),
    (["convert", "soapy:driver=nonexistent", "o.cf32", "--rate", "1e6"], "no SoapySDR device"),
    (["convert", "soapy:driver=nonexistent", "o.cf32"], "sample rate"),
    (["convert", "in.cf32", "o.cf32", "--gain", "LNA=x"], "NAME=dB"),
])
def test_bad_arguments_give_one_line_errors(args, message, tmp_path):
    r = subprocess.run([sys.executable, "-m", "sdrcast", *args], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert message in r.stderr, r.stderr
    assert r.stderr.strip().count("\n") == 0, r.stderr


def test_devices_reports_none_cleanly_without_modules(tmp_path):
    r = run("devices", env={"SOAPY_SDR_ROOT": str(tmp_path), "SOAPY_SDR_PLUGIN_PATH": str(tmp_path)})
    if "SoapySDR Python module not found" in r.stderr:
        pytest.skip("SoapySDR not installed")
    assert r.returncode == 0 and r.stdout.strip() == "no devices found"


def test_devices_lists_the_loopback(soapy_loopback):
    r = run("devices")
    assert r.returncode == 0 and "sdrcast_loopback" in r.stdout


def test_convert_file_to_loopback_radio_and_back(soapy_loopback, recording, tmp_path):
    """Transmit a recording through SoapySDR (loopback) while recording it again."""
    import threading

    args = "soapy:driver=sdrcast_loopback,loop=cli"
    rx_out = tmp_path / "rx.sigmf-data"
    result = {}

    def receive():
        result["rc"] = main(["convert", args, str(rx_out), "--rate", "2e6", "--freq", "600e6",
                             "--num-samples", "50000", "--quiet"])

    import SoapySDR

    # the loop's ring lives while a device on it is open: hold one so that a transmitter that
    # finishes before the receiver opens does not take its samples with it
    holder = SoapySDR.Device(args.removeprefix("soapy:"))
    t = threading.Thread(target=receive)
    t.start()
    assert main(["convert", str(recording), args, "--freq", "600e6", "--gain", "10",
                 "--quiet"]) == 0
    t.join(30)
    del holder
    assert result.get("rc") == 0
    got, meta = read_samples(rx_out)
    sent, _ = read_samples(recording)
    np.testing.assert_array_equal(got, sent)
    assert meta.center_freq == 600e6
