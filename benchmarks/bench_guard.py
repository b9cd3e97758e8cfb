"""SQL guard overhead vs raw DuckDB execution of the same SQL on the same connection.

Outside the default test run. Usage:
    python benchmarks/bench_guard.py [--rows 1000000] [--reps 7] [--home DIR]
or  pytest benchmarks/bench_guard.py -m bench

It generates a FOCUS table (``--rows`` rows over 13 months, 40 services, 12 regions, 3 tag keys with
materialised ``x_tag_*`` columns) in a temporary home (or uses ``--home`` as is, e.g. a demo home),
opens the hardened read-only connection once, then for each typical question measures (p50 of
``--reps`` runs, after one warm-up run):

- guard: ``guard(sql, schema)`` alone (parse, allow-list, qualify, re-render), wall time and the
  thread's CPU time (the guard is single-threaded Python, so CPU time is what it costs on an idle
  machine; wall time grows with the machine's load);
- raw: ``con.execute(sql).fetchmany(max_rows + 1)`` of the guarded SQL;
- guarded: ``Runner.run(sql)`` (guard + execute with timer + caps + JSON-safe rows);
- overhead: guarded - raw.

One-time costs (hardened connect incl. ledger and settings, schema read, first guard call) are
reported apart.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tools.billing import store
from tools.context import ToolContext
from tools.sql.guard import guard
from tools.sql.run import Runner, connect

QUESTIONS: dict[str, str] = {
    "monthly by service": "SELECT date_trunc('month', ChargePeriodStart) AS month, ServiceName, "
    "sum(EffectiveCost) AS cost FROM focus GROUP BY 1, 2 ORDER BY 1, 3 DESC",
    "daily trend last 30 days": "SELECT date_trunc('day', ChargePeriodStart) AS day, sum(EffectiveCost) AS cost "
    "FROM focus WHERE ChargePeriodStart >= TIMESTAMP '2026-11-01' GROUP BY 1 ORDER BY 1",
    "top 10 services": "SELECT ServiceName, sum(EffectiveCost) AS cost FROM focus GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
    "cost by team (Tags)": "SELECT Tags['team'] AS team, sum(EffectiveCost) AS cost FROM focus GROUP BY 1 "
    "ORDER BY 2 DESC",
    "cost by team (x_tag)": "SELECT x_tag_team AS team, sum(EffectiveCost) AS cost FROM focus GROUP BY 1 "
    "ORDER BY 2 DESC",
    "untagged share": "SELECT sum(EffectiveCost) FILTER (WHERE x_tag_team IS NULL) / sum(EffectiveCost) "
    "AS untagged_share FROM focus",
    "month over month": "WITH m AS (SELECT date_trunc('month', ChargePeriodStart) AS m, sum(EffectiveCost) AS c "
    "FROM focus GROUP BY 1) SELECT m, c, c - lag(c) OVER (ORDER BY m) AS delta FROM m ORDER BY m",
    "region x env": "SELECT RegionId, x_tag_env, sum(BilledCost) AS billed FROM focus GROUP BY ALL "
    "ORDER BY billed DESC LIMIT 20",
    "top resources": "SELECT ResourceId, ServiceName, sum(EffectiveCost) AS cost FROM focus "
    "WHERE ChargePeriodStart >= TIMESTAMP '2026-11-01' GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 10",
    "agent usage by model": "SELECT model, sum(cost_usd) AS cost, sum(input_tokens) AS tokens FROM agent_usage "
    "GROUP BY 1",
}


def generate(home: Path, rows: int) -> None:
    """A FOCUS-shaped table: 13 months hourly-ish, services, regions, resources, 3 tag keys."""
    with store.writer(home / "finops.duckdb") as con:
        con.execute(
            f"""INSERT INTO focus (BilledCost, EffectiveCost, ListCost, ServiceName, ProviderName, RegionId,
                    ResourceId, ChargeCategory, ChargePeriodStart, ChargePeriodEnd, SubAccountId, Tags)
                SELECT (random() * 10)::DECIMAL(38,12), (random() * 9)::DECIMAL(38,12),
                       (random() * 12)::DECIMAL(38,12), 'Service ' || (i % 40), 'AWS', 'region-' || (i % 12),
                       'res-' || (i % 100000), 'Usage',
                       TIMESTAMP '2025-11-01' + INTERVAL (i * 34214400 // {rows}) SECOND,
                       TIMESTAMP '2025-11-01' + INTERVAL (i * 34214400 // {rows} + 3600) SECOND,
                       'acct-' || (i % 200),
                       CASE WHEN i % 7 = 0 THEN MAP {{}}::MAP(VARCHAR, VARCHAR)
                            ELSE MAP {{'team': 'team-' || (i % 9), 'env': CASE WHEN i % 3 = 0 THEN 'dev'
                                      ELSE 'prod' END, 'app': 'app-' || (i % 25)}} END
                FROM range({rows}) t(i)"""
        )
        store.materialise_tags(con)


def _p50(fn: Callable[[], object], reps: int, clock: Callable[[], float] = time.perf_counter) -> float:
    fn()  # warm-up
    times = []
    for _ in range(reps):
        started = clock()
        fn()
        times.append((clock() - started) * 1000)
    return statistics.median(times)


def measure(ctx: ToolContext, reps: int) -> list[dict[str, float | str]]:
    started = time.perf_counter()
    with connect(ctx) as con:
        connect_ms = (time.perf_counter() - started) * 1000
        runner = Runner(con, ctx.limits, ctx.ledger_path)
        started = time.perf_counter()
        schema = runner.schema
        schema_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        guard("SELECT 1 FROM focus", schema)
        first_guard_ms = (time.perf_counter() - started) * 1000
        print(f"one-time: hardened connect {connect_ms:.1f} ms, schema read {schema_ms:.1f} ms, "
              f"first guard call (imports) {first_guard_ms:.1f} ms")
        out: list[dict[str, float | str]] = []
        cap = ctx.limits.max_rows + 1
        for name, sql in QUESTIONS.items():
            guarded_sql = guard(sql, schema).sql
            runner.run(sql)  # loads agent_usage on first use, so the raw run finds it too
            g = _p50(lambda sql=sql: guard(sql, schema), reps)
            g_cpu = _p50(lambda sql=sql: guard(sql, schema), reps, clock=time.thread_time)
            raw = _p50(lambda s=guarded_sql: con.execute(s).fetchmany(cap), reps)
            full = _p50(lambda sql=sql: runner.run(sql), reps)
            out.append({"question": name, "guard_ms": g, "guard_cpu_ms": g_cpu, "raw_ms": raw, "guarded_ms": full,
                        "overhead_ms": full - raw})
    return out


def report(rows: list[dict[str, float | str]]) -> None:
    print(f"{'question':28} {'guard':>8} {'guard cpu':>9} {'raw exec':>9} {'guarded':>9} {'overhead':>9} {'ratio':>6}")
    for r in rows:
        ratio = float(r["guarded_ms"]) / float(r["raw_ms"]) if float(r["raw_ms"]) else float("nan")
        print(f"{r['question']!s:28} {r['guard_ms']:8.2f} {r['guard_cpu_ms']:9.2f} {r['raw_ms']:9.2f} "
              f"{r['guarded_ms']:9.2f} {r['overhead_ms']:9.2f} {ratio:6.2f}")
    guards = [float(r["guard_ms"]) for r in rows]
    cpu = [float(r["guard_cpu_ms"]) for r in rows]
    overheads = [float(r["overhead_ms"]) for r in rows]
    print(f"guard p50 {statistics.median(guards):.2f} ms wall (max {max(guards):.2f}), "
          f"{statistics.median(cpu):.2f} ms thread CPU (max {max(cpu):.2f}); "
          f"guarded-minus-raw p50 {statistics.median(overheads):.2f} ms (max {max(overheads):.2f})")
    by = {str(r["question"]): float(r["raw_ms"]) for r in rows}
    base = by["monthly by service"]
    print(f"cost by tag vs monthly by service (raw): Tags[] {by['cost by team (Tags)'] / base:.2f}x, "
          f"x_tag {by['cost by team (x_tag)'] / base:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--home", type=Path, default=None, help="use this home's data instead of generating")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp) / "home"
        if args.home is None:
            started = time.perf_counter()
            generate(home, args.rows)
            print(f"generated {args.rows:,} rows in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        report(measure(ToolContext(home=home), args.reps))
    return 0


@pytest.mark.bench
def test_bench_guard(tmp_path: Path) -> None:
    generate(tmp_path / "home", 200_000)
    rows = measure(ToolContext(home=tmp_path / "home"), reps=3)
    report(rows)
    assert statistics.median(float(r["guard_ms"]) for r in rows) < 50


if __name__ == "__main__":
    sys.exit(main())
