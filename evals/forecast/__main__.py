"""`python -m evals.forecast [--n 40] [--seed 0] [--prophet] [--demo-home HOME] [--report FILE]`.

Prints WAPE, MAPE, interval coverage and time per series for the calendar regression and the
baselines (seasonal naive, run rate; Prophet with holidays with --prophet), computed in the same run,
and writes the JSON report.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from evals.forecast.runner import run_forecast_eval

COLUMNS = (
    ("wape", "WAPE"),
    ("mape", "MAPE"),
    ("wape_event_days", "WAPE event days"),
    ("wape_vs_seasonal_naive", "vs s-naive"),
    ("wape_vs_run_rate", "vs run-rate"),
    ("win_rate_vs_seasonal_naive", "beats s-naive"),
    ("coverage_80", "80% coverage"),
    ("ms_per_series_fit", "ms/series"),
)


def format_table(title: str, report: dict[str, Any]) -> str:
    """A markdown table of one backtest (methods as rows)."""
    head = "| method | " + " | ".join(label for _, label in COLUMNS) + " |"
    lines = [f"### {title} ({report['series']} series, {report['fits_per_method']} forecasts each)", "", head]
    lines.append("|" + "---|" * (len(COLUMNS) + 1))
    for name, m in report["methods"].items():
        cells = [_cell(m.get(key)) for key, _ in COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("goals: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in report["goals"].items()))
    return "\n".join(lines)


def _cell(v: Any) -> str:
    return "" if v is None else f"{v:g}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.forecast", description=__doc__)
    ap.add_argument("--n", type=int, default=40, help="synthetic series (default 40)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--prophet", action="store_true", help="also fit Prophet with holidays (slow import)")
    ap.add_argument("--demo-home", type=Path, default=None, help="a finops home with the demo org loaded")
    ap.add_argument("--report", type=Path, default=Path("evals/forecast/report.json"))
    a = ap.parse_args(argv)
    report = run_forecast_eval(a.n, a.seed, a.prophet, a.demo_home, a.report)
    print(format_table(f"Synthetic calendar-event series, seed {a.seed}", report["synthetic"]))
    if "demo" in report:
        print()
        print(format_table("Demo org: total + top services", report["demo"]))
    print(f"\nreport: {a.report}", file=sys.stderr)
    print(json.dumps({"goals_met": all(report["synthetic"]["goals"].values())}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
