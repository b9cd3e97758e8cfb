"""Weekly tagging run over N resources, offline: goal <= 30 s for 10k resources.

    python benchmarks/bench_tags.py [--resources 10000] [--home /tmp/finops-bench-tags]

Builds a synthetic org (``evals.tagging.synthetic``: FOCUS rows in the store + CloudTrail log files),
then times one cold ``run_weekly`` (inventory, CloudTrail creators, features, per-key models with
out-of-fold calibration, suggestions, tag policies validated by c7n and queued), and a same-week
re-run (idempotent: nothing new). Timings exclude the setup; they include library imports.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import date
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resources", type=int, default=10_000)
    ap.add_argument("--home", type=Path, default=Path("/tmp/finops-bench-tags"))  # noqa: S108 - scratch
    args = ap.parse_args()

    from evals.tagging import synthetic

    shutil.rmtree(args.home, ignore_errors=True)
    t0 = time.perf_counter()
    org = synthetic.generate(args.resources, seed=1)
    synthetic.write_focus(args.home / "finops.duckdb", org, days=2)
    synthetic.write_cloudtrail(args.home / "cloudtrail", org)
    setup = time.perf_counter() - t0

    from agent.workflows.weekly_tags import run_weekly
    from tools.context import ToolContext

    ctx = ToolContext(home=args.home, cloudtrail_dir=args.home / "cloudtrail")
    t1 = time.perf_counter()
    run = run_weekly(ctx, today=date(2026, 12, 2), slack=False)
    cold = time.perf_counter() - t1
    t2 = time.perf_counter()
    again = run_weekly(ctx, today=date(2026, 12, 3), slack=False)
    rerun = time.perf_counter() - t2
    policies = sum(len(Path(p).read_text().split("\n- name: ")) - 1 for p in run.policies)
    print(json.dumps({
        "resources": args.resources, "setup_s": round(setup, 1), "weekly_cold_s": round(cold, 1),
        "same_week_rerun_s": round(rerun, 2), "rerun_already_ran": again.already_ran,
        "policy_files": len(run.policies), "policies": policies, "counts": run.counts(), "goal_s": 30,
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
