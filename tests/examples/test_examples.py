"""Every script in examples/ runs as a user would run it, for a few seconds, and does what its
header says."""
import csv
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(name: str, *args: str, cwd: Path) -> str:
    r = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True,
                       timeout=600, cwd=cwd)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def test_every_example_has_a_test():
    tested = set(re.findall(r'run\("(\w+\.py)"|EXAMPLES / "(\w+\.py)"', Path(__file__).read_text()))
    tested = {a or b for a, b in tested}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


def test_channel_lab(tmp_path):
    out = run("channel_lab.py", "--seconds", "2.5", "--snr", "25", "--speed", "60", cwd=tmp_path)
    assert re.search(r"^\s+2 s\s+tracking\s+MCH BLER 0\.0000", out, re.M), out
    got, sent = map(int, re.search(r"(\d+) of (\d+) IP packets received", out).groups())
    assert got == sent > 500


def test_snr_sweep(tmp_path):
    out = run("snr_sweep.py", "--link", "fembms", "--snr", "6,12", "--frames", "100", "--out", "s",
              cwd=tmp_path)
    rows = list(csv.DictReader(open(tmp_path / "s" / "sweep.csv")))
    assert [float(r["snr_db"]) for r in rows] == [6.0, 12.0]
    assert float(rows[0]["fer"]) > float(rows[1]["fer"]) == 0.0  # below and above threshold
    assert (tmp_path / "s" / "error_rates.png").stat().st_size > 10_000 and "plot:" in out


def test_fembms_station(soapy_loopback, tmp_path):
    """Station and receiver through the loopback radio: every generated packet comes back."""
    from sdrcast.mac.ip import split_datagrams
    from sdrcast.sdr_io.payload import PcapSource

    out = run("fembms_station.py", "--seconds", "2", "--pcap", "rx.pcap", cwd=tmp_path)
    got, sent = map(int, re.search(r"(\d+) of (\d+) IP packets received", out).groups())
    assert got == sent > 300 and "MCH {'errors': 0" in out
    data = b"".join(bytes(c.data) for c in PcapSource(tmp_path / "rx.pcap").generate())
    grams, _ = split_datagrams(np.frombuffer(data, np.uint8))
    assert len(grams) == sent


def test_capture_spectrum(soapy_loopback, tmp_path):
    """A FeMBMS transmitter (another process) into the loopback radio; the capture script
    records 1 s to SigMF with its rate and frequency, draws the spectrum, and the recording
    holds the cell."""
    import json

    tx = subprocess.Popen([sys.executable, "-m", "sdrcast", "tx", "fembms", "--preset", "5mhz_1k25_mcs9",
                           "--input", "gen", "--duration", "5", "--quiet", "--output",
                           "soapy:driver=sdrcast_loopback,loop=capture"], cwd=tmp_path,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run("capture_spectrum.py", "--seconds", "1", "--out", "cap.sigmf-data", cwd=tmp_path)
    finally:
        tx.terminate()  # it waits for a reader that has gone; SIGTERM lets it close the loop
        tx.wait(30)
    meta = json.loads((tmp_path / "cap.sigmf-meta").read_text())
    assert meta["global"]["core:sample_rate"] == 7.68e6 and meta["captures"][0]["core:frequency"] == 626e6
    assert (tmp_path / "cap.sigmf-data").stat().st_size == 7_680_000 * 8
    assert (tmp_path / "spectrum.png").stat().st_size > 20_000
    r = subprocess.run([sys.executable, "-m", "sdrcast", "identify", str(tmp_path / "cap.sigmf-data")],
                       capture_output=True, text=True, timeout=300)
    assert "fembms: pci 1" in r.stdout, r.stdout + r.stderr


def test_atsc3_ts_to_radio(soapy_loopback, tmp_path):
    """The same TS to a file and to the loopback radio, recorded by ``sdrcast convert`` in
    another process: the radio gets exactly the file's samples, and they hold ATSC 3.0."""
    from sdrcast.mac.ts import sample_stream

    (tmp_path / "p.ts").write_bytes(sample_stream(300).tobytes())
    run("atsc3_ts_to_radio.py", "--ts", "p.ts", "--radio", "ref.cf32", cwd=tmp_path)
    n = (tmp_path / "ref.cf32").stat().st_size // 8
    radio = "soapy:driver=sdrcast_loopback,loop=atsc3_example"
    rec = subprocess.Popen([sys.executable, "-m", "sdrcast", "convert", radio, "rec.cf32", "--rate",
                            "6.912e6", "--freq", "593e6", "--num-samples", str(n), "--quiet"], cwd=tmp_path)
    try:
        out = run("atsc3_ts_to_radio.py", "--ts", "p.ts", "--radio", radio, cwd=tmp_path)
        assert rec.wait(120) == 0
    finally:
        rec.kill()
    assert (tmp_path / "rec.cf32").read_bytes() == (tmp_path / "ref.cf32").read_bytes() and n > 10 ** 6
    assert re.search(r"ATSC 3.0 at 6.912 Msps on .*: \d+ frames", out)
    r = subprocess.run([sys.executable, "-m", "sdrcast", "identify", str(tmp_path / "rec.cf32"), "--rate",
                        "6.912e6"], capture_output=True, text=True, timeout=300)
    assert "atsc3: start 0" in r.stdout, r.stdout + r.stderr


def test_gnuradio_channel(gnuradio_python, tmp_path):
    """sdrcast TX -> GNU Radio (rotator + noise) -> sdrcast RX over ZeroMQ, under Debian's
    python3: the offset found and every packet back."""
    r = subprocess.run([gnuradio_python, str(EXAMPLES / "gnuradio_channel.py"), "--seconds", "1.5",
                        "--ports", "5741,5742"], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]
    sent = int(re.search(r"IP packets sent (\d+)", r.stdout).group(1))
    got = int(re.search(r"IP packets (\d+) \{", r.stdout).group(1))
    assert got == sent > 200, r.stdout
    assert abs(float(re.search(r"carrier offset (-?[\d.]+) Hz", r.stdout).group(1)) - 2000) < 20
