"""Fuzz every parser of received data (sdrcast.analysis.fuzzing): 20,000 random inputs each by
default; prints accepted / rejected (ParseError) / escaped (a bug) per parser and writes
benchmarks/results/fuzz.json. Exit 1 if anything escaped.

    .venv/bin/python benchmarks/fuzz.py [--cases 20000] [--seed 0]
"""
import argparse
import json
import sys
import time
from pathlib import Path

from sdrcast.analysis.fuzzing import run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t = time.perf_counter()
    res = run(args.cases, args.seed)
    for name, r in res.items():
        print(f"{name:32s} accepted {r['accepted']:6d}  rejected {r['rejected']:6d}  "
              f"escaped {r['escaped']:6d}")
        for e in r["examples"]:
            print("   ", e.replace("\n", "\n    "))
    print(f"{args.cases} cases per parser in {time.perf_counter() - t:.1f} s")
    out = Path(__file__).parent / "results" / "fuzz.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"cases": args.cases, "seed": args.seed, "results": res}, indent=1))
    return 1 if any(r["escaped"] for r in res.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
