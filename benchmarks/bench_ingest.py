"""Ingest throughput vs DuckDB's own CREATE TABLE AS SELECT on the same file, plus CLI cold start.

    python benchmarks/bench_ingest.py [--rows 1000000] [--workdir /tmp/finops-bench]

Prints one table; every ratio is measured in the same run (the machine is noisy: compare ratios).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tools.billing.ingest import ingest_paths
from tools.context import ToolContext

GEN = """
SELECT
  '0' || (100000000000 + (i % 200))::VARCHAR AS BillingAccountId,
  'Acme' AS BillingAccountName, 'USD' AS BillingCurrency,
  TIMESTAMP '2025-11-01' + INTERVAL (i % 13) MONTH AS BillingPeriodStart,
  TIMESTAMP '2025-12-01' + INTERVAL (i % 13) MONTH AS BillingPeriodEnd,
  TIMESTAMP '2025-11-01' + INTERVAL (i % 9500) HOUR AS ChargePeriodStart,
  TIMESTAMP '2025-11-01' + INTERVAL (i % 9500 + 1) HOUR AS ChargePeriodEnd,
  'Usage' AS ChargeCategory, 'Usage-Based' AS ChargeFrequency, 'instance hours' AS ChargeDescription,
  round((hash(i) % 100000) / 1000.0, 6) AS BilledCost, round((hash(i) % 90000) / 1000.0, 6) AS EffectiveCost,
  round((hash(i) % 120000) / 1000.0, 6) AS ListCost, round((hash(i) % 100000) / 1000.0, 6) AS ContractedCost,
  1.0 AS PricingQuantity, 'Hours' AS PricingUnit, 'Amazon Web Services, Inc.' AS InvoiceIssuerName,
  'AWS' AS ProviderName, 'Amazon Web Services, Inc.' AS PublisherName, 'Compute' AS ServiceCategory,
  'Service ' || (i % 40)::VARCHAR AS ServiceName, (200000000000 + (i % 200))::VARCHAR AS SubAccountId,
  'account-' || (i % 200)::VARCHAR AS SubAccountName, 'region-' || (i % 16)::VARCHAR AS RegionId,
  'i-' || (i % 100000)::VARCHAR AS ResourceId,
  CASE WHEN i % 10 < 3 THEN NULL ELSE '{"team":"team-' || (i % 8)::VARCHAR || '","env":"prod"}' END AS Tags
FROM range({rows}) t(i)
"""


def make_files(workdir: Path, rows: int) -> tuple[Path, Path]:
    workdir.mkdir(parents=True, exist_ok=True)
    csv, pq = workdir / f"focus_{rows}.csv", workdir / f"focus_{rows}.parquet"
    con = duckdb.connect()
    query = GEN.replace("{rows}", str(rows))
    if not csv.exists():
        con.execute(f"COPY ({query}) TO '{csv}' (HEADER, DELIMITER ',')")
    if not pq.exists():
        con.execute(f"COPY ({query}) TO '{pq}' (FORMAT parquet)")
    return csv, pq


def raw_ctas(path: Path, db: Path) -> float:
    db.unlink(missing_ok=True)
    reader = f"read_parquet('{path}')" if path.suffix == ".parquet" else f"read_csv('{path}')"
    started = time.perf_counter()
    con = duckdb.connect(str(db), config={"threads": 2})
    con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}")
    con.execute("CHECKPOINT")
    con.close()
    return time.perf_counter() - started


def ours(path: Path, home: Path) -> float:
    shutil.rmtree(home, ignore_errors=True)
    started = time.perf_counter()
    ingest_paths(ToolContext(home=home), [path])
    return time.perf_counter() - started


def cold_start(runs: int = 7) -> tuple[float, float]:
    def timed(cmd: list[str]) -> float:
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True)
            samples.append(time.perf_counter() - t)
        return statistics.median(samples)

    bare = timed([sys.executable, "-c", "pass"])
    helps = timed([sys.executable, "-m", "agent.cli", "--help"])
    return bare, helps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/finops-bench"))  # noqa: S108 - a scratch folder
    args = ap.parse_args()
    csv, pq = make_files(args.workdir, args.rows)
    print(f"{'source':<10} {'rows':>10} {'raw CTAS s':>11} {'finops s':>9} {'ratio':>6} {'finops rows/s':>14}")
    for path in (csv, pq):
        raw = raw_ctas(path, args.workdir / "raw.duckdb")
        mine = ours(path, args.workdir / "home")
        rate = args.rows / mine
        print(f"{path.suffix[1:]:<10} {args.rows:>10,} {raw:>11.2f} {mine:>9.2f} {mine / raw:>6.2f} {rate:>14,.0f}")
    bare, helps = cold_start()
    print(f"python -c pass {bare * 1000:.0f} ms; finops --help {helps * 1000:.0f} ms; ratio {helps / bare:.1f}x")


if __name__ == "__main__":
    main()
