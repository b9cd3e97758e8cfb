"""`ask --provider offline` latency split into plan, guard, execute and render, against the raw DuckDB run
of the same SQL on the same connection, measured in one run.

    python benchmarks/bench_ask.py --home /tmp/finops-large [--scale large] [--runs 5]

Generates the demo at ``--scale`` into ``--home`` when it holds no data (large: >= 10M rows).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from pathlib import Path

QUESTIONS = [
    "What did we spend last month?",
    "Top 5 services by cost last month",
    "Monthly spend trend",
    "spend by service",
    "Spend by team last month",
    "month over month change by service",
    "Daily spend for the last 30 days",
    "AI spend by model last month",
    "untagged spend by service last month",
    "spend by account last month",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", type=Path, default=Path("/tmp/finops-bench-ask"))  # noqa: S108 - scratch
    ap.add_argument("--scale", default="large")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    from rich.console import Console

    from agent.llm.offline import plan_question
    from agent.render import table
    from tools.billing import store
    from tools.billing.vocab import load_vocabulary
    from tools.context import ToolContext
    from tools.costs import Dimensions, compile_query, data_window
    from tools.sql.run import execute, open_runner

    ctx = ToolContext(home=args.home)
    if not store.has_data(ctx.db_path):
        from tools.billing.demo import load_demo

        t = time.perf_counter()
        summary = load_demo(ctx, scale=args.scale)
        print(f"generated and loaded {summary.rows:,} rows in {time.perf_counter() - t:.0f} s")
    vocab = load_vocabulary(ctx)
    rows_out = []
    with open_runner(ctx) as runner:
        total_rows = runner.con.execute("SELECT count(*) FROM focus").fetchone()[0]  # type: ignore[index]
        dims = Dimensions.load(runner.con)
        first, anchor = data_window(runner.con)
        for q in QUESTIONS:
            timings: dict[str, list[float]] = {k: [] for k in ("plan", "guard", "execute", "render", "raw")}
            for _ in range(args.runs):
                t0 = time.perf_counter()
                plan = plan_question(q, vocab)
                sql, _, _ = compile_query(plan.query, dims, first, anchor)
                t1 = time.perf_counter()
                guarded = runner.check(sql)
                t2 = time.perf_counter()
                result = execute(runner.con, guarded, runner.limits)
                t3 = time.perf_counter()
                Console(file=io.StringIO(), width=140).print(table(result.columns, result.rows))
                t4 = time.perf_counter()
                runner.con.execute(sql).fetchall()
                t5 = time.perf_counter()
                for key, seconds in zip(timings, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
                    timings[key].append(seconds * 1000)
            med = {k: statistics.median(v) for k, v in timings.items()}
            rows_out.append((q, med))
    print(f"{total_rows:,} rows; median of {args.runs} runs, milliseconds")
    print(f"{'question':<42} {'plan':>6} {'guard':>6} {'exec':>8} {'render':>7} {'raw':>8} {'overhead':>9}")
    for q, m in rows_out:
        overhead = m["plan"] + m["guard"] + m["render"]
        print(f"{q[:42]:<42} {m['plan']:>6.1f} {m['guard']:>6.1f} {m['execute']:>8.1f} {m['render']:>7.1f} "
              f"{m['raw']:>8.1f} {overhead:>9.1f}")
    overheads = sorted(m["plan"] + m["guard"] + m["render"] for _, m in rows_out)
    print(f"p50 overhead (plan+guard+render): {statistics.median(overheads):.1f} ms")
    by_tag = dict(rows_out)["Spend by team last month"]["execute"]
    by_service_month = dict(rows_out)["Monthly spend trend"]["execute"]
    print(f"cost-by-tag / monthly trend execution: {by_tag / by_service_month:.2f}x")


if __name__ == "__main__":
    main()
