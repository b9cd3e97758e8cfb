"""Per-series fit+forecast time and accuracy: the calendar regression vs Prophet with holidays (same run).

Outside the default test run. Usage:
    python benchmarks/bench_forecast.py [--n 30] [--seed 0] [--mstl] [--demo-home HOME] [--out FILE]
or  pytest benchmarks/bench_forecast.py -m bench

Every method forecasts the same seeded synthetic series on the same 3 origins x 30 days (see
evals/forecast). "ms/series" is wall time per fit+forecast in one process; for the calendar regression it
includes the 6 inner backtest fits that produce its conformal intervals, for Prophet its own uncertainty
sampling. Import and first-call times are reported apart. --mstl adds statsforecast MSTL(7)+AutoARIMA
with calendar regressors (slow: seconds per series).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evals.forecast import synthetic
from evals.forecast.runner import EvalSeries, Forecaster, backtest, methods
from tools.calendar import event_days, holiday_days
from tools.forecasting.features import CalendarInfo


def import_seconds(module: str) -> float:
    """Cold import time of a module in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return round(float(out.stdout.strip().splitlines()[-1]), 2)


def mstl_forecast(start: dt.date, y: np.ndarray, h: int, cal: CalendarInfo) -> Any:
    """statsforecast MSTL(7) with an AutoARIMA trend on calendar regressors (perf notes' best model)."""
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoARIMA

    n = len(y)
    days = [start + dt.timedelta(days=i) for i in range(n + h)]
    names = sorted({nm for nms in event_days(cal.events, days[0], days[-1]).values() for nm in nms})
    ev = event_days(cal.events, days[0], days[-1])
    frame = pd.DataFrame({"unique_id": "s", "ds": pd.to_datetime(days)})
    frame["month_start"] = [float(d.day == 1) for d in days]
    frame["holiday"] = [float(d in cal.holidays) for d in days]
    for i, nm in enumerate(names):
        frame[f"e{i}"] = [float(nm in ev.get(d, [])) for d in days]
    model = MSTL(season_length=7, trend_forecaster=AutoARIMA(season_length=1))
    sf = StatsForecast(models=[model], freq="D", n_jobs=1)
    train = frame.iloc[:n].assign(y=y)
    fc = sf.forecast(df=train, h=h, X_df=frame.iloc[n:], level=[80])
    return (
        np.maximum(fc["MSTL"].to_numpy(), 0),
        np.maximum(fc["MSTL-lo-80"].to_numpy(), 0),
        np.maximum(fc["MSTL-hi-80"].to_numpy(), 0),
    )


def run(n: int, seed: int, mstl: bool, demo_home: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {"n": n, "seed": seed, "imports_s": {}}
    for module in ("tools.forecast", "prophet") + (("statsforecast",) if mstl else ()):
        out["imports_s"][module] = import_seconds(module)
    series = [EvalSeries(s.key, s.start, s.y) for s in synthetic.make_series(n, seed)]
    cal = CalendarInfo(holidays=holiday_days("US", synthetic.START, synthetic.END), events=synthetic.CALENDAR)
    fns = methods(include_prophet=True)
    t = time.perf_counter()  # first call (warm-up) of Prophet: Stan model load
    fns["prophet_holidays"](synthetic.START, series[0].y[:600], 30, cal)
    out["prophet_first_call_s"] = round(time.perf_counter() - t, 2)
    extra: dict[str, Forecaster] | None = {"mstl_arima_exog": mstl_forecast} if mstl else None
    out["synthetic"] = backtest(series, synthetic.ORIGINS, cal, synthetic.HORIZON, True, extra=extra)
    if demo_home is not None:
        from evals.forecast.demo import ORIGINS, demo_series

        dser, dcal = demo_series(demo_home)
        out["demo"] = backtest(dser, ORIGINS, dcal, 30, True, extra=extra)
    return out


@pytest.mark.bench
def test_calendar_regression_is_no_slower_than_prophet_with_holidays() -> None:
    report = run(6, 0, False, None)["synthetic"]["methods"]
    assert report["calendar_regression"]["ms_per_series_fit"] <= report["prophet_holidays"]["ms_per_series_fit"]
    assert report["calendar_regression"]["wape"] <= report["prophet_holidays"]["wape"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mstl", action="store_true")
    ap.add_argument("--demo-home", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    warnings.filterwarnings("ignore")
    from evals.forecast.__main__ import format_table

    res = run(a.n, a.seed, a.mstl, a.demo_home)
    print(json.dumps({k: res[k] for k in ("imports_s", "prophet_first_call_s")}))
    print(format_table(f"Synthetic, seed {a.seed}", res["synthetic"]))
    if "demo" in res:
        print(format_table("Demo org", res["demo"]))
    if a.out:
        a.out.write_text(json.dumps(res, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
