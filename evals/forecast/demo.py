"""Rolling-origin backtest on the demo org: the daily total and its largest services.

Reads the loaded demo from ``home`` (``finops demo`` / ``load_demo``) and its calendar.yaml; the
manifest's ground truth is not needed (the actual spend after each origin is the truth).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from evals.forecast.runner import EvalSeries, backtest
from tools.calendar import holiday_days, load_calendar
from tools.forecasting.features import CalendarInfo
from tools.forecasting.series import OTHER, read_daily

ORIGINS = (dt.date(2026, 8, 31), dt.date(2026, 9, 30), dt.date(2026, 10, 31))
HORIZON = 30
TOP_SERVICES = 8


def demo_series(home: Path) -> tuple[list[EvalSeries], CalendarInfo]:
    spend = read_daily(home / "finops.duckdb", by="ServiceName")
    series = [EvalSeries("total", spend.start, spend.total)]
    parts = [(k, y) for k, y in spend.parts.items() if k != OTHER][:TOP_SERVICES]
    series += [EvalSeries(k, spend.start, y) for k, y in parts]
    cal_path = home / "demo" / "calendar.yaml"
    events = tuple(load_calendar(cal_path)) if cal_path.exists() else ()
    end = spend.last_day + dt.timedelta(days=HORIZON)
    return series, CalendarInfo(holidays=holiday_days("US", spend.start, end), events=events)


def demo_eval(home: Path, include_prophet: bool = False) -> dict[str, Any]:
    """Backtest the total and the top services of the demo org (3 origins x 30 days)."""
    series, cal = demo_series(home)
    report = backtest(series, ORIGINS, cal, HORIZON, include_prophet)
    report["keys"] = [s.key for s in series]
    return report
