"""Sweep harness: early stop, resume, CSV/JSON output, and Dask = local for the same seed."""
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from sdrcast.analysis.sweep import executor_for, parse_range, run_sweep
from sdrcast.errors import ConfigError

PARAMS = {"link": "reference", "snrs": [8.0, 14.0, 30.0], "frames": 24, "min_errors": 5,
          "batch_frames": 4, "seed": 7, "order": 16, "channel": {}}


def test_parse_range():
    assert parse_range("0:2:0.5") == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert parse_range("3,5") == [3.0, 5.0]
    with pytest.raises(ConfigError, match="START:STOP:STEP"):
        parse_range("a:b")


def test_sweep_stops_early_writes_results_and_resumes(tmp_path):
    with ThreadPoolExecutor(2) as ex:
        rows = run_sweep(PARAMS, tmp_path, ex, progress=False)
    low, mid, high = rows
    assert low["frame_errors"] >= 5 and low["frames"] < 24  # stopped at min_errors
    assert high["frames"] == 24 and high["frame_errors"] == 0  # ran to the budget
    assert high["fer_ci95"][1] < 0.2 and low["ber"] > mid["ber"]
    csv_text = (tmp_path / "sweep.csv").read_text().splitlines()
    assert csv_text[0].startswith("snr_db,frames,frame_errors") and len(csv_text) == 4
    state = json.loads((tmp_path / "sweep.json").read_text())
    assert state["params"] == PARAMS
    # resume: nothing left to do, so no batch runs (an executor that refuses work proves it)

    class Refuse(ThreadPoolExecutor):
        def submit(self, *a, **k):
            raise AssertionError("resumed sweep re-ran a batch")

    with Refuse(1) as ex:
        assert run_sweep(PARAMS, tmp_path, ex, progress=False) == rows


def test_dask_cluster_gives_the_same_numbers(tmp_path):
    distributed = pytest.importorskip("distributed")
    with ThreadPoolExecutor(2) as ex:
        local = run_sweep(PARAMS, tmp_path / "local", ex, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        with executor_for(cluster=cluster.scheduler_address) as ex:
            remote = run_sweep(PARAMS, tmp_path / "dask", ex, progress=False)
    assert remote == local


def test_dtmb_link_waterfall(tmp_path):
    params = {"link": "dtmb", "snrs": [12.0, 15.0], "frames": 4, "min_errors": 2,
              "batch_frames": 4, "seed": 1, "channel": {},
              "dtmb": {"header": "pn420", "constellation": "64QAM", "ldpc_rate": 0.6,
                       "interleaver_mode": 1}}
    with ThreadPoolExecutor(1) as ex:
        low, high = run_sweep(params, tmp_path, ex, progress=False)
    assert low["frame_errors"] == low["frames"] and low["ber"] > 1e-2
    assert high["frame_errors"] == 0 and high["bits"] == 4 * 9 * 188 * 8


def test_fembms_link_waterfall(tmp_path):
    """One scheduling period per point: below threshold nothing comes through (counted, not
    hidden), above it every transport block and byte."""
    params = {"link": "fembms", "snrs": [-2.0, 10.0], "frames": 300, "min_errors": 1,
              "batch_frames": 300, "seed": 1, "channel": {}}
    with ThreadPoolExecutor(1) as ex:
        low, high = run_sweep(params, tmp_path, ex, progress=False)
    assert low["frame_errors"] == low["frames"] == 312 and low["ber"] > 0.3
    assert high["frame_errors"] == 0 and high["bit_errors"] == 0 and high["bits"] > 1_000_000


def test_atsc3_link_waterfall(tmp_path):
    """``sdrcast sweep atsc3``: the mobile PLP's FEC blocks, found and decoded with no
    configuration; below threshold every block counts as an error, above it none."""
    params = {"link": "atsc3", "snrs": [2.0, 12.0], "frames": 16, "min_errors": 1,
              "batch_frames": 16, "seed": 1, "channel": {}, "plp": 0}
    with ThreadPoolExecutor(1) as ex:
        low, high = run_sweep(params, tmp_path, ex, progress=False)
    assert low["frame_errors"] == low["frames"] == 16 and low["ber"] > 0.3
    assert high["frame_errors"] == 0 and high["bit_errors"] == 0 and high["bits"] > 400_000
