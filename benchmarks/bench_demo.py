"""Demo org generation time and size per scale (large must reach >= 10M FOCUS rows).

Outside the default test run. Usage:
    python benchmarks/bench_demo.py [--scale large] [--seed 42] [--out DIR] [--load]
or  pytest benchmarks/bench_demo.py -m bench

Measured in one run: wall and CPU seconds of ``generate()`` (FOCUS Parquet month by month, CloudTrail
logs, git repo, calendar, manifest), FOCUS rows, rows/s, peak RSS of the process, and bytes on disk.
``--load`` also ingests the files into a fresh DuckDB home (``load_demo``) and reports the load time.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from tools.billing.demo import DemoSpec, generate, load_demo
from tools.context import ToolContext


def _disk_mb(root: Path, part: str) -> float:
    return round(sum(p.stat().st_size for p in (root / part).rglob("*") if p.is_file()) / 1e6, 1)


def run(scale: str = "large", seed: int = 42, out: Path | None = None, load: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        root = out or Path(tmp) / "demo"
        wall, cpu = time.perf_counter(), time.process_time()
        files = generate(DemoSpec(seed=seed, scale=scale), root)  # type: ignore[arg-type]
        result: dict[str, Any] = {
            "scale": scale,
            "seed": seed,
            "rows": files.rows,
            "resources": files.resources,
            "generate_wall_s": round(time.perf_counter() - wall, 1),
            "generate_cpu_s": round(time.process_time() - cpu, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
            "focus_parquet_mb": _disk_mb(root, "focus"),
            "cloudtrail_files": files.cloudtrail_files,
            "commits": files.commits,
        }
        result["rows_per_s"] = round(files.rows / max(result["generate_wall_s"], 1e-9))
        if load:
            summary = load_demo(ToolContext(home=Path(tmp) / "home"), seed=seed, scale=scale)
            result["load_s"] = summary.load_seconds
            result["load_rows_per_s"] = round(summary.rows / max(summary.load_seconds, 1e-9))
    return result


@pytest.mark.bench
def test_large_demo_reaches_ten_million_rows() -> None:
    result = run("large")
    print("\n" + json.dumps(result, indent=1))
    assert result["rows"] >= 10_000_000


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="large", choices=["small", "medium", "large"])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", type=Path, default=None, help="keep the generated files here")
    ap.add_argument("--load", action="store_true", help="also ingest into a fresh DuckDB home and time it")
    args = ap.parse_args(argv)
    result = run(args.scale, args.seed, args.out, args.load)
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
