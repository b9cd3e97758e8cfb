"""``python -m evals.anomalies [--seeds N] [--first-seed S] [--demo]``: print the eval JSON."""

from __future__ import annotations

import argparse
import json
import sys

from evals.anomalies import run_anomaly_eval


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.anomalies", description=__doc__)
    parser.add_argument("--seeds", type=int, default=8, help="number of seeded synthetic organisations")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--demo", action="store_true", help="also score the demo org")
    parser.add_argument("--demo-seeds", default="42", help="comma-separated demo seeds (42 = the shipped demo)")
    args = parser.parse_args(argv)
    seeds = tuple(int(s) for s in args.demo_seeds.split(",") if s.strip())
    result = run_anomaly_eval(seeds=args.seeds, first_seed=args.first_seed, demo=args.demo, demo_seeds=seeds)
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0 if result["all_passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
