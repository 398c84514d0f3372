"""Error-rate sweeps: TX -> channel -> RX per SNR point until ``min_errors`` frame errors or a
``frames`` budget, in parallel through any ``concurrent.futures.Executor`` — a local process
pool, or a Dask distributed cluster's executor (``--cluster tcp://host:8786``).

Work is split into batches of ``batch_frames`` frames, each a pure function of (params, SNR,
batch index). A point uses its batches in index order and stops at the first batch whose running
frame-error count reaches ``min_errors``, whatever order batches finish in, so every executor
gives the same numbers. Results are written after every wave (``sweep.json`` + ``sweep.csv``) and
a rerun with the same parameters resumes from them.
"""
from __future__ import annotations

import csv
import json
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from sdrcast.analysis.links import run_batch
from sdrcast.analysis.metrics import clopper_pearson
from sdrcast.config import require_range
from sdrcast.errors import ConfigError


def parse_range(text: str) -> list[float]:
    """``"0:20:0.5"`` (start:stop:step, stop included) or ``"3,5,7"`` -> list of floats."""
    try:
        if ":" in text:
            a, b, s = (float(v) for v in text.split(":"))
            if s <= 0 or b < a:
                raise ConfigError(f"SNR range {text!r}: STOP must be >= START and STEP > 0 "
                                  "(START:STOP:STEP, e.g. 0:20:0.5)")
            n = int(round((b - a) / s)) + 1
            return [round(a + i * s, 6) for i in range(n)]
        return [float(v) for v in text.split(",")]
    except ConfigError:
        raise
    except ValueError:
        raise ConfigError(f"SNR range {text!r}: use START:STOP:STEP or a comma list") from None


def _summary(params: dict, snr: float, batches: dict[int, dict]) -> dict:
    """Counts over batches 0..b, stopping at the first batch that reaches min_errors."""
    tot = {"frames": 0, "frame_errors": 0, "bits": 0, "bit_errors": 0}
    mer = []
    done = False
    for b in range(len(batches)):
        if b not in batches:
            break
        for k in tot:
            tot[k] += batches[b][k]
        if batches[b]["mer_db"] is not None:
            mer.append(batches[b]["mer_db"])
        if tot["frame_errors"] >= params["min_errors"] or tot["frames"] >= params["frames"]:
            done = True
            break
    fer = tot["frame_errors"] / tot["frames"] if tot["frames"] else None
    ber = tot["bit_errors"] / tot["bits"] if tot["bits"] else None
    return {"snr_db": snr, **tot, "fer": fer, "ber": ber, "done": done,
            "fer_ci95": clopper_pearson(tot["frame_errors"], tot["frames"]),
            "mer_db": sum(mer) / len(mer) if mer else None}


@contextmanager
def executor_for(workers: int = 1, cluster: str | None = None):
    """A local process pool, or the executor of a Dask cluster at ``cluster``."""
    if not cluster and workers < 1:
        raise ConfigError(f"--workers {workers}: must be >= 1")
    if cluster:
        try:
            from distributed import Client
        except ImportError as exc:
            raise ConfigError("--cluster needs dask distributed: pip install 'dask[distributed]'") from exc
        client = Client(cluster)
        try:
            yield client.get_executor()
        finally:
            client.close()
    else:
        with ProcessPoolExecutor(workers) as pool:
            yield pool


def run_sweep(params: dict, out: str | Path, executor: Executor, progress: bool = True) -> list[dict]:
    """Run (or resume) the sweep described by ``params`` into folder ``out``.

    ``params``: link, snrs (list), frames, min_errors, batch_frames, seed, order, channel (dict
    of ChannelConfig fields other than sample_rate, snr_db and seed).
    """
    for key in ("link", "snrs", "frames", "min_errors", "batch_frames"):
        if key not in params:
            raise ConfigError(f"sweep parameter {key!r} is missing")
    require_range("frames", params["frames"], 1)
    require_range("batch_frames", params["batch_frames"], 1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / "sweep.json"
    batches: dict[float, dict[int, dict]] = {s: {} for s in params["snrs"]}
    if state_path.exists():
        old = json.loads(state_path.read_text())
        if old.get("params") == params:
            for s, bs in old.get("batches", {}).items():
                if float(s) in batches:
                    batches[float(s)] = {int(b): v for b, v in bs.items()}
    width = max(1, getattr(executor, "_max_workers", 4)) * 2
    bar = _bar(progress, params, batches)
    while True:
        todo = []
        for s in params["snrs"]:
            summ = _summary(params, s, batches[s])
            if summ["done"]:
                continue
            nb = len(batches[s])
            need = -(-(params["frames"] - summ["frames"]) // params["batch_frames"])
            todo += [(s, nb + i) for i in range(min(need, width))]
        if not todo:
            break
        futures = [(s, b, executor.submit(run_batch, params, s, b)) for s, b in todo[:width * 2]]
        for s, b, f in futures:
            batches[s][b] = f.result()
            if bar is not None:
                bar.update(batches[s][b]["frames"])
        _write(params, batches, out)
    if bar is not None:
        bar.close()
    return _write(params, batches, out)


def _bar(progress: bool, params: dict, batches):
    if not progress:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    done = sum(v["frames"] for bs in batches.values() for v in bs.values())
    return tqdm(total=len(params["snrs"]) * params["frames"], initial=done, unit="frame",
                desc=f"sweep {params['link']}")


def _write(params: dict, batches, out: Path) -> list[dict]:
    rows = [_summary(params, s, batches[s]) for s in params["snrs"]]
    state = {"params": params, "results": rows,
             "batches": {str(s): {str(b): v for b, v in bs.items()} for s, bs in batches.items()}}
    tmp = out / "sweep.json.tmp"
    tmp.write_text(json.dumps(state, indent=1))
    tmp.replace(out / "sweep.json")
    with open(out / "sweep.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["snr_db", "frames", "frame_errors", "fer", "bits", "bit_errors", "ber", "mer_db"])
        for r in rows:
            w.writerow([r["snr_db"], r["frames"], r["frame_errors"], r["fer"], r["bits"],
                        r["bit_errors"], r["ber"], r["mer_db"]])
    return rows
