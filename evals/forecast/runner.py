"""Rolling-origin backtests of the forecast against baselines computed in the same run.

For every series and origin the calendar regression (the product's model, with its conformal 80%
intervals), seasonal naive, run rate and optionally Prophet with holidays are fitted on the days up to
the origin and scored on the next 30 days. Reported per method: mean per-series WAPE and MAPE, WAPE
on calendar-event days, the ratio to each baseline, the share of series better than seasonal naive,
80% interval coverage and fit+forecast time per series.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tools.calendar import holiday_days
from tools.forecasting import baselines
from tools.forecasting.engine import forecast_series
from tools.forecasting.features import CalendarInfo
from tools.forecasting.metrics import coverage, mape, wape
from tools.forecasting.regression import RegressionConfig

MODEL = "calendar_regression"
GOALS = {"wape_vs_seasonal_naive": 0.6, "wape_vs_run_rate": 0.7, "win_rate": 0.9, "coverage": (0.75, 0.85)}

Forecaster = Callable[[dt.date, np.ndarray, int, CalendarInfo], tuple[np.ndarray, np.ndarray | None, np.ndarray | None]]


@dataclass(frozen=True)
class EvalSeries:
    key: str
    start: dt.date
    y: np.ndarray


def _ours(cfg: RegressionConfig | None) -> Forecaster:
    def run(start: dt.date, y: np.ndarray, h: int, cal: CalendarInfo) -> Any:
        fc = forecast_series(start, y, h, cal, cfg)
        return fc.yhat, fc.lo, fc.hi

    return run


def _prophet(start: dt.date, y: np.ndarray, h: int, cal: CalendarInfo) -> Any:
    from evals.forecast.prophet_model import prophet_forecast

    return prophet_forecast(start, y, h, cal)


def methods(include_prophet: bool, cfg: RegressionConfig | None = None) -> dict[str, Forecaster]:
    out: dict[str, Forecaster] = {
        MODEL: _ours(cfg),
        "seasonal_naive": lambda s, y, h, c: (baselines.seasonal_naive(y, h), None, None),
        "run_rate": lambda s, y, h, c: (baselines.run_rate(y, h), None, None),
    }
    if include_prophet:
        out["prophet_holidays"] = _prophet
    return out


def backtest(
    series: Sequence[EvalSeries],
    origins: Sequence[dt.date],
    cal: CalendarInfo,
    horizon: int = 30,
    include_prophet: bool = False,
    cfg: RegressionConfig | None = None,
    extra: dict[str, Forecaster] | None = None,
) -> dict[str, Any]:
    """Score every method on every series and origin; return the summary and per-series rows."""
    fns = methods(include_prophet, cfg) | (extra or {})
    per: dict[str, list[dict[str, float]]] = {m: [] for m in fns}
    seconds = {m: 0.0 for m in fns}
    fits = 0
    per_key: dict[str, dict[str, float]] = {}
    for s in series:
        acc: dict[str, dict[str, list[np.ndarray]]] = {m: {"y": [], "p": [], "lo": [], "hi": [], "ev": []} for m in fns}
        for origin in origins:
            n = (origin - s.start).days + 1
            if n + horizon > len(s.y) or n < 60:
                continue
            train, actual = s.y[:n], s.y[n : n + horizon]
            ev = _event_mask(origin, horizon, cal)
            fits += 1
            for m, fn in fns.items():
                t0 = time.perf_counter()
                yhat, lo, hi = fn(s.start, train, horizon, cal)
                seconds[m] += time.perf_counter() - t0
                a = acc[m]
                a["y"].append(actual)
                a["p"].append(yhat)
                a["ev"].append(ev)
                if lo is not None and hi is not None:
                    a["lo"].append(lo)
                    a["hi"].append(hi)
        for m in fns:
            a = acc[m]
            if not a["y"]:
                continue
            y, p, ev = np.concatenate(a["y"]), np.concatenate(a["p"]), np.concatenate(a["ev"])
            row = {
                "wape": wape(y, p),
                "mape": mape(y, p),
                "wape_event": wape(y[ev], p[ev]) if ev.any() else np.nan,
            }
            if a["lo"]:
                row["coverage"] = coverage(y, np.concatenate(a["lo"]), np.concatenate(a["hi"]))
            per[m].append(row)
        per_key[s.key] = {m: round(rows[-1]["wape"], 4) for m, rows in per.items() if rows}
    out = _summary(per, seconds, fits, len(series))
    out["per_series_wape"] = per_key if len(series) <= 50 else {}
    return out


def _event_mask(origin: dt.date, horizon: int, cal: CalendarInfo) -> np.ndarray:
    from tools.calendar import event_days

    first, last = origin + dt.timedelta(days=1), origin + dt.timedelta(days=horizon)
    hits = set(event_days(cal.events, first, last)) | {d for d in cal.holidays if first <= d <= last}
    days = [first + dt.timedelta(days=i) for i in range(horizon)]
    return np.array([d in hits or d.day == 1 for d in days])


def _summary(per: dict[str, list[dict[str, float]]], seconds: dict[str, float], fits: int, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {"series": n, "fits_per_method": fits, "methods": {}}
    base = {b: np.array([r["wape"] for r in per[b]]) for b in ("seasonal_naive", "run_rate")}
    for m, rows in per.items():
        w = np.array([r["wape"] for r in rows])
        entry: dict[str, Any] = {
            "wape": _r(np.mean(w)),
            "mape": _r(np.nanmean([r["mape"] for r in rows])),
            "wape_event_days": _r(np.nanmean([r["wape_event"] for r in rows])),
            "wape_vs_seasonal_naive": _r(np.mean(w) / np.mean(base["seasonal_naive"])),
            "wape_vs_run_rate": _r(np.mean(w) / np.mean(base["run_rate"])),
            "win_rate_vs_seasonal_naive": _r(np.mean(w < base["seasonal_naive"])),
            "ms_per_series_fit": _r(1000 * seconds[m] / max(fits, 1), 1),
        }
        cov = [r["coverage"] for r in rows if "coverage" in r]
        if cov:
            entry["coverage_80"] = _r(np.mean(cov))
        out["methods"][m] = entry
    mine = out["methods"][MODEL]
    out["goals"] = {
        "wape_vs_seasonal_naive<=0.6": mine["wape_vs_seasonal_naive"] <= GOALS["wape_vs_seasonal_naive"],
        "wape_vs_run_rate<=0.7": mine["wape_vs_run_rate"] <= GOALS["wape_vs_run_rate"],
        "better_than_seasonal_naive_on>=90%": mine["win_rate_vs_seasonal_naive"] >= GOALS["win_rate"],
        "coverage_80_in_75..85%": 0.75 <= mine.get("coverage_80", 0.0) <= 0.85,
    }
    if "prophet_holidays" in out["methods"]:
        out["goals"]["no_slower_than_prophet"] = (
            mine["ms_per_series_fit"] <= out["methods"]["prophet_holidays"]["ms_per_series_fit"]
        )
    return out


def _r(x: Any, places: int = 4) -> float:
    return round(float(x), places)


def synthetic_eval(n: int = 40, seed: int = 0, include_prophet: bool = False) -> dict[str, Any]:
    """Backtest on ``n`` seeded synthetic calendar-event series (3 origins x 30 days)."""
    from evals.forecast import synthetic

    series = [EvalSeries(s.key, s.start, s.y) for s in synthetic.make_series(n, seed)]
    cal = CalendarInfo(holidays=holiday_days("US", synthetic.START, synthetic.END), events=synthetic.CALENDAR)
    return backtest(series, synthetic.ORIGINS, cal, synthetic.HORIZON, include_prophet)


def run_forecast_eval(
    n: int = 40,
    seed: int = 0,
    include_prophet: bool = False,
    demo_home: Path | None = None,
    report_path: Path | None = None,
) -> dict[str, Any]:
    """The forecast eval: synthetic series (+ the demo org when ``demo_home`` holds it); JSON report."""
    report: dict[str, Any] = {"synthetic": synthetic_eval(n, seed, include_prophet), "seed": seed}
    if demo_home is not None:
        from evals.forecast.demo import demo_eval

        report["demo"] = demo_eval(demo_home, include_prophet)
    if report_path is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return report
