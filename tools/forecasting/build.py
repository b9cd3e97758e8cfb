"""Assemble a ForecastResult: read, settle, fit the total and the parts, reconcile, project, explain."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from tools.calendar import holiday_days, load_calendar
from tools.context import ToolContext
from tools.forecasting.engine import MODEL, SNAIVE, SeriesForecast, forecast_series
from tools.forecasting.features import CalendarInfo, calendar_design
from tools.forecasting.regression import fit_predict
from tools.forecasting.series import (
    MAX_UNSETTLED_DAYS,
    MIN_HISTORY_DAYS,
    DailySpend,
    UnsettledDay,
    check_history,
    read_daily,
    unsettled_tail,
)

if TYPE_CHECKING:
    from tools.forecast import EventUsed, ForecastResult, Projection, SeriesForecastOut

TOTAL_KEY = "total"
HISTORY_DAYS = 56


def _quarter_end(day: dt.date) -> dt.date:
    q_last_month = 3 * ((day.month - 1) // 3 + 1)
    return _month_end(dt.date(day.year, q_last_month, 1))


def _month_end(day: dt.date) -> dt.date:
    nxt = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def build_forecast(
    ctx: ToolContext,
    horizon_days: int,
    by: str | None,
    calendar_path: Path | None,
    country: str,
    budget_usd: float | None,
) -> ForecastResult:
    from tools.forecast import RECONCILIATION, BacktestOut, ForecastResult, HistoryPoint, UnsettledOut

    events = tuple(load_calendar(calendar_path)) if calendar_path is not None else ()
    spend = read_daily(ctx.db_path, by)
    reach = spend.last_day + dt.timedelta(days=horizon_days + 92)
    cal = CalendarInfo(holidays=holiday_days(country, spend.start, reach), events=events)
    unsettled = _unsettled(spend, cal)
    n = len(spend.total) - len(unsettled)
    check_history(spend.start, n)
    cutoff = spend.start + dt.timedelta(days=n - 1)
    first = cutoff + dt.timedelta(days=1)
    horizon_end = cutoff + dt.timedelta(days=horizon_days)
    ext = max(horizon_days, (_quarter_end(horizon_end) - cutoff).days)
    total_fc = forecast_series(spend.start, spend.total[:n], ext, cal)
    series = [_series_out(TOTAL_KEY, total_fc, horizon_days, 1.0, np.ones(ext))]
    naive_parts: list[str] = []
    if spend.parts:
        parts, naive_parts = _reconciled_parts(spend, n, ext, horizon_days, cal, total_fc)
        series += parts
    bt = total_fc.backtest
    return ForecastResult(
        method=_method_sentence(total_fc, country, n, cutoff, naive_parts),
        cutoff=cutoff,
        first_day=spend.start,
        settled_days=n,
        horizon_days=horizon_days,
        country=country,
        by=spend.dimension.label if spend.dimension else None,
        reconciliation=RECONCILIATION if spend.parts else None,
        series=series,
        events_used=_events_used(total_fc, first, horizon_days) if total_fc.method == MODEL else [],
        backtest=BacktestOut(
            wape=_round(bt.wape),
            baseline_wape={"seasonal_naive": _round(bt.seasonal_naive), "run_rate": _round(bt.run_rate)},
            origins=bt.origins,
        ),
        unsettled_days=[
            UnsettledOut(date=u.day, cost=round(u.cost, 2), expected=round(u.expected, 2)) for u in unsettled
        ],
        level_shifts=[spend.start + dt.timedelta(days=s) for s in total_fc.fit.shifts],
        projections=_projections(spend, n, total_fc, ext, horizon_end, budget_usd),
        budget_usd=budget_usd,
        history=[
            HistoryPoint(date=spend.start + dt.timedelta(days=i), cost=round(float(spend.total[i]), 2), settled=i < n)
            for i in range(max(len(spend.total) - HISTORY_DAYS, 0), len(spend.total))
        ],
    )


def _unsettled(spend: DailySpend, cal: CalendarInfo) -> list[UnsettledDay]:
    """Billing lag: trailing days far below the calendar model's expectation for them."""
    k = MAX_UNSETTLED_DAYS
    n = len(spend.total)
    if n - k < MIN_HISTORY_DAYS:
        return unsettled_tail(spend.start, spend.total)
    design = calendar_design(spend.start, n - k, n, cal)
    expected = fit_predict(spend.total[: n - k], design, k).yhat
    return unsettled_tail(spend.start, spend.total, expected)


def _round(x: float | None, places: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), places)


def _series_out(
    key: str, fc: SeriesForecast, horizon: int, total_scale: float, day_scale: np.ndarray
) -> SeriesForecastOut:
    from tools.forecast import ForecastPoint, SeriesForecastOut

    points = [
        ForecastPoint(
            date=fc.start + dt.timedelta(days=i),
            yhat=round(float(fc.yhat[i] * day_scale[i]), 2),
            lo=round(float(fc.lo[i] * day_scale[i]), 2),
            hi=round(float(fc.hi[i] * day_scale[i]), 2),
        )
        for i in range(horizon)
    ]
    total, lo, hi = fc.window(0, horizon)
    total = float((fc.yhat[:horizon] * day_scale[:horizon]).sum())
    return SeriesForecastOut(
        key=key,
        points=points,
        total=round(total, 2),
        total_lo=round(lo * total_scale, 2),
        total_hi=round(hi * total_scale, 2),
    )


def _reconciled_parts(
    spend: DailySpend, n: int, ext: int, horizon: int, cal: CalendarInfo, total_fc: SeriesForecast
) -> tuple[list[SeriesForecastOut], list[str]]:
    """Forecast every part, then scale each day's parts so they sum to the total forecast.

    Also returns the parts forecast seasonal-naive (it won their own backtest clearly)."""
    fcs: dict[str, SeriesForecast | None] = {}
    for key, y in spend.parts.items():
        fcs[key] = forecast_series(spend.start, y[:n], ext, cal) if np.any(y[:n] != 0) else None
    sum_parts = np.sum([f.yhat for f in fcs.values() if f is not None], axis=0)
    scale = np.where(sum_parts > 0, total_fc.yhat / np.where(sum_parts > 0, sum_parts, 1.0), 0.0)
    out = []
    for key, fc in fcs.items():
        label = key if key != TOTAL_KEY else f"{key} (part)"
        if fc is None:
            out.append(_zero_series(label, total_fc.start, horizon))
            continue
        raw = float(fc.yhat[:horizon].sum())
        recon = float((fc.yhat[:horizon] * scale[:horizon]).sum())
        out.append(_series_out(label, fc, horizon, recon / raw if raw > 0 else 0.0, scale))
    return out, [k for k, f in fcs.items() if f is not None and f.method == SNAIVE]


def _zero_series(key: str, start: dt.date, horizon: int) -> SeriesForecastOut:
    from tools.forecast import ForecastPoint, SeriesForecastOut

    pts = [ForecastPoint(date=start + dt.timedelta(days=i), yhat=0.0, lo=0.0, hi=0.0) for i in range(horizon)]
    return SeriesForecastOut(key=key, points=pts, total=0.0, total_lo=0.0, total_hi=0.0)


def _events_used(fc: SeriesForecast, first: dt.date, horizon: int) -> list[EventUsed]:
    from tools.forecast import EventUsed

    last = first + dt.timedelta(days=horizon - 1)
    out = []
    for eff in fc.design.effects:
        dates = sorted(d for d, names in fc.design.day_labels.items() if first <= d <= last and eff.name in names)
        if not dates:
            continue
        if eff.source == "learned":
            coef = fc.fit.coef.get(f"{eff.kind}:{eff.name}", 0.0)
            effect: str | None = _pct(math.exp(coef) - 1)
        elif eff.source == "stated" and eff.stated_ratio is not None:
            effect = _pct(eff.stated_ratio - 1)
        else:
            effect = None
        out.append(
            EventUsed(
                name=eff.name,
                kind=eff.kind,
                dates=dates,
                effect=effect,
                source=eff.source,
                past_days=eff.past_days,
            )
        )
    return out


def _pct(x: float) -> str:
    return "±0%" if abs(x) < 0.005 else f"{x:+.0%}"


def _projections(
    spend: DailySpend, n: int, fc: SeriesForecast, ext: int, horizon_end: dt.date, budget: float | None
) -> list[Projection]:
    """Month-end and quarter-end spend (settled actuals + forecast): months the horizon touches, and
    the quarters they belong to (the fit runs to the last quarter's end)."""
    from tools.forecast import Projection

    first = fc.start
    last = first + dt.timedelta(days=ext - 1)
    periods: list[tuple[Literal["month", "quarter"], str, dt.date, dt.date]] = []
    day = dt.date(first.year, first.month, 1)
    while day <= horizon_end:
        periods.append(("month", f"{day:%Y-%m}", day, _month_end(day)))
        day = _month_end(day) + dt.timedelta(days=1)
    day = dt.date(first.year, 3 * ((first.month - 1) // 3) + 1, 1)
    while _quarter_end(day) <= last:
        periods.append(("quarter", f"{day.year}-Q{(day.month - 1) // 3 + 1}", day, _quarter_end(day)))
        day = _quarter_end(day) + dt.timedelta(days=1)
    out = []
    for kind, label, p_start, p_end in periods:
        a = max((p_start - spend.start).days, 0)
        actual = float(spend.total[a:n].sum()) if p_start <= fc.start - dt.timedelta(days=1) else 0.0
        f0 = max((p_start - first).days, 0)
        f1 = (p_end - first).days + 1
        fsum, flo, fhi = fc.window(f0, f1)
        scale = 3.0 if kind == "quarter" else 1.0
        out.append(
            Projection(
                period=label,
                kind=kind,
                end=p_end,
                actual=round(actual, 2),
                forecast=round(fsum, 2),
                total=round(actual + fsum, 2),
                lo=round(actual + flo, 2),
                hi=round(actual + fhi, 2),
                budget=round(budget * scale, 2) if budget is not None else None,
            )
        )
    return out


def _method_sentence(fc: SeriesForecast, country: str, n: int, cutoff: dt.date, naive_parts: list[str]) -> str:
    """One sentence a user can defend: the model, its calendar, the data cut-off, the intervals."""
    n_events = len({e.name for e in fc.design.effects if e.kind == "event"})
    parts = ["weekday effects", "month-start charges", f"{country} public holidays"]
    if n_events:
        parts.append(f"{n_events} company calendar event{'s' if n_events != 1 else ''}")
    shifts = len(fc.fit.shifts)
    trend = f"{shifts} level shift{'s' if shifts != 1 else ''} and a local trend" if shifts else "a local trend"
    bt = fc.backtest
    if fc.method == SNAIVE:
        model = (
            "Seasonal naive (the last 7 days repeated: it beat the calendar regression in this series' backtest, "
            f"WAPE {bt.seasonal_naive:.1%} vs {bt.wape:.1%})"
        )
    else:
        model = f"Calendar regression (log-linear ridge on {', '.join(parts)}; {trend})"
    intervals = (
        f"80% intervals from {bt.origins} rolling backtest origins"
        if bt.origins
        else "80% intervals from in-sample residuals"
    )
    text = f"{model}, fitted on {n} settled days through {cutoff:%Y-%m-%d}; {intervals}"
    if naive_parts:
        own = "their own backtests" if len(naive_parts) > 1 else "its own backtest"
        text += f"; seasonal naive for {', '.join(naive_parts)} (better in {own})"
    return text
