"""Honest interfaces (issue 11, items 7, 11-13): bad input gives exit 2 and one line naming the
field; a run that produces nothing useful gives exit 1 and says why; never a traceback."""
import json

import numpy as np
import pytest

from sdrcast.cli import main
from sdrcast.mac.ts import sample_stream
from sdrcast.sdr_io import write_samples

DTMB_OK = 'header = "pn420"\nconstellation = "16QAM"\nldpc_rate = 0.6\ninterleaver_mode = 1\n'
ATSC3_NO_PLPS = 'bsr_coefficient = 2\n[[subframes]]\nfft_size = 8192\n'


def _files(d):
    (d / "bad.toml").write_text('header = "pn420\n')
    (d / "bad.json").write_text('{"header": ')
    (d / "str.toml").write_text(DTMB_OK.replace("0.6", '"0.6"'))
    (d / "float.toml").write_text(DTMB_OK.replace("= 1", "= 2.0"))
    (d / "rot.toml").write_text(DTMB_OK + 'header_rotating = "no"\n')
    (d / "noplp.toml").write_text(ATSC3_NO_PLPS)
    (d / "in.ts").write_bytes(sample_stream(20).tobytes())
    (d / "empty.ts").write_bytes(b"")
    (d / "random.ts").write_bytes(np.random.default_rng(0).integers(0, 256, 188 * 50, np.uint8).tobytes())
    iq = (np.random.default_rng(1).standard_normal(100_000) * 0.1).astype(np.complex64)
    write_samples(d / "noise.cf32", iq, 7.56e6)
    (d / "iq.ts").write_bytes(iq.tobytes())
    write_samples(d / "zeros.cf32", np.zeros(100_000, np.complex64), 7.56e6)
    (d / "empty.cf32").write_bytes(b"")
    write_samples(d / "rec.sigmf-data", iq[:1000], 1e6)
    meta = json.loads((d / "rec.sigmf-meta").read_text())
    meta["global"]["core:num_channels"] = 2
    (d / "two.sigmf-meta").write_text(json.dumps(meta))
    (d / "two.sigmf-data").write_bytes((d / "rec.sigmf-data").read_bytes())


CASES = [  # args, exit code, message in stderr
    (["tx", "dtmb", "--config", "bad.toml", "--input", "in.ts", "--output", "o.cf32"], 2, "TOML syntax"),
    (["tx", "dtmb", "--config", "bad.json", "--input", "in.ts", "--output", "o.cf32"], 2, "JSON syntax"),
    (["tx", "dtmb", "--config", "str.toml", "--input", "in.ts", "--output", "o.cf32"], 2,
     "ldpc_rate='0.6': expected a number"),
    (["tx", "dtmb", "--config", "float.toml", "--input", "in.ts", "--output", "o.cf32"], 2,
     "interleaver_mode=2.0: expected an integer"),
    (["tx", "dtmb", "--config", "rot.toml", "--input", "in.ts", "--output", "o.cf32"], 2,
     "header_rotating='no': expected true or false"),
    (["tx", "atsc3", "--config", "noplp.toml", "--input", "in.ts", "--output", "o.cf32"], 2,
     "['plps'] must be given"),
    (["tx", "dtmb", "--input", "iq.ts", "--output", "o.cf32", "--quiet"], 2, "not MPEG-TS"),
    (["tx", "dtmb", "--input", "random.ts", "--output", "o.cf32", "--quiet"], 2, "not MPEG-TS"),
    (["tx", "dtmb", "--input", "empty.ts", "--output", "o.cf32", "--quiet"], 1, "no input"),
    (["tx", "dtmb", "--input", "in.ts", "--output", "o.cf32", "--level", "3"], 2, "--level 3"),
    (["rx", "dtmb", "--input", "noise.cf32", "--output", "o.ts", "--quiet"], 1, "no DTMB signal"),
    (["rx", "dtmb", "--input", "zeros.cf32", "--output", "o.ts", "--quiet"], 1, "no DTMB signal"),
    (["rx", "dtmb", "--input", "empty.cf32", "--output", "o.ts", "--quiet"], 1, "no DTMB signal"),
    (["rx", "dtmb", "--input", "noise.cf32", "--output", "o.ts", "--report", "nodir/r.json"], 2,
     "cannot write"),
    (["rx", "dtmb", "--input", "noise.cf32", "--output", "o.ts", "--rate", "-1"], 2, "--rate -1"),
    (["rx", "atsc3", "--input", "noise.cf32", "--output", "o.ts"], 1, ""),
    (["rx", "atsc3", "--input", "empty.cf32", "--output", "o.ts"], 1, "no ATSC 3.0 bootstrap"),
    (["rx", "atsc3", "--input", "noise.cf32", "--output", "o.ts", "--rate", "-1"], 2, "--rate -1"),
    (["rx", "atsc3", "--input", "noise.cf32", "--output", "o.ts", "--plp", "x"], 2, "--plp 'x'"),
    (["rx", "atsc3", "--input", "noise.cf32", "--output", "o.ts", "--plp", "all"], 2, "{plp}"),
    (["rx", "atsc3", "--input", "zmq+sub://127.0.0.1:5999", "--output", "o.ts", "--timeout",
      "0.5", "--quiet"], 2, "no data"),
    (["sweep", "reference", "--snr", "10:0:1", "--out", "s"], 2, "STOP must be >= START"),
    (["sweep", "reference", "--snr", "0:1:1", "--workers", "0", "--out", "s"], 2, "--workers 0"),
    (["convert", "zmq+sub://127.0.0.1:99999", "o.cf32"], 2, "PORT 1..65535"),
    (["convert", "zmq+sub://127.0.0.1:5555?hwm=abc", "o.cf32"], 2, "hwm='abc'"),
    (["convert", "noise.cf32", "o.cf32", "--num-samples", "0"], 2, "--num-samples 0"),
    (["convert", "soapy:driver=x", "o.cf32", "--rate", "-1"], 2, "--rate -1"),
    (["convert", "noise.cf32", "noise.cf32"], 2, "is the input file"),
    (["convert", "rec.sigmf-meta", "rec.sigmf-data"], 2, "is the input file"),
    (["convert", "two.sigmf-data", "o.cf32"], 2, "num_channels=2"),
    (["convert", "empty.cf32", "o.cf32", "--quiet"], 1, "nothing sent"),
    (["plot", "noise.cf32", "-o", "p.png", "--offset", "200000"], 2, "offset 200000"),
]


@pytest.mark.parametrize("args, code, message", CASES, ids=[" ".join(c[0][:3]) + f" {i}"
                                                             for i, c in enumerate(CASES)])
def test_exit_code_matrix(args, code, message, tmp_path, monkeypatch, capsys):
    _files(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = (tmp_path / "noise.cf32").read_bytes()
    assert main(args) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert err and message in err[-1], err
    assert not any("Traceback" in line for line in err)
    assert (tmp_path / "noise.cf32").read_bytes() == before  # inputs are never touched


def test_convert_nan_to_integer_format_is_counted_and_written_as_zero(tmp_path):
    x = np.full(1000, 0.5 + 0.5j, np.complex64)
    x[10] = np.nan
    write_samples(tmp_path / "n.cf32", x, 1e6)
    assert main(["convert", str(tmp_path / "n.cf32"), str(tmp_path / "o.cs8"), "--quiet",
                 "--rate", "1e6"]) == 0
    got = np.fromfile(tmp_path / "o.cs8", np.int8)
    assert got[20] == 0 and got[21] == 0 and got[0] == 64


def test_convert_stats_never_go_into_a_sample_stream_on_stdout(tmp_path, capfd):
    write_samples(tmp_path / "a.cf32", np.ones(100, np.complex64), 1e6)
    assert main(["convert", str(tmp_path / "a.cf32"), "-", "--stats", "--quiet"]) == 0
    out = capfd.readouterr()
    assert len(out.out.encode("latin-1", "replace")) <= 800 + 10 and '"blocks"' in out.err


def test_sigterm_during_convert_closes_the_recording_and_exits_130(tmp_path):
    """Issue 11 item 7: SIGTERM left data without its .sigmf-meta and exited 0."""
    import signal
    import subprocess
    import sys
    import time

    write_samples(tmp_path / "in.cf32", np.ones(2_000_000, np.complex64) * 0.1, 1e6)
    p = subprocess.Popen([sys.executable, "-m", "sdrcast", "convert", str(tmp_path / "in.cf32"),
                          str(tmp_path / "out.sigmf-data"), "--rate", "1e6", "--throttle", "2e5",
                          "--quiet"], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not (tmp_path / "out.sigmf-data").exists() or \
            (tmp_path / "out.sigmf-data").stat().st_size == 0:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=30) == 130
    assert "interrupted" in p.stderr.read()
    meta = json.loads((tmp_path / "out.sigmf-meta").read_text())
    assert meta["global"]["core:sample_rate"] == 1e6
    assert 0 < (tmp_path / "out.sigmf-data").stat().st_size < 16_000_000
