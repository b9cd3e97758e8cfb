"""Calendar-aware spend forecast with a stated method, 80% intervals and a same-run backtest.

``forecast(ctx, horizon_days)`` reads daily EffectiveCost from the ``focus`` table, drops unsettled
recent days (billing lag), fits the calendar regression (weekday, month-start, public holidays of
``country``, company events from the calendar file, level shifts and a local trend; see
:mod:`tools.forecasting.regression`) and reports the forecast, its intervals, which calendar effects
it used and how it did against seasonal-naive and run-rate baselines on the same backtest origins.
With ``by`` every part is forecast and the parts are reconciled proportionally to the total forecast.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.context import ToolContext
from tools.errors import BadInput, ToolError
from tools.registry import tool

MODEL_NAME = "calendar_regression"
MAX_HORIZON = 366
RECONCILIATION = "proportional: each day's part forecasts are scaled so they sum to the total forecast"


class ForecastPoint(BaseModel):
    date: dt.date
    yhat: float
    lo: float
    hi: float


class SeriesForecastOut(BaseModel):
    key: str
    points: list[ForecastPoint]
    total: float
    total_lo: float
    total_hi: float


class EventUsed(BaseModel):
    """A calendar effect that falls inside the forecast horizon and how the model sized it."""

    name: str
    kind: Literal["holiday", "event"]
    dates: list[dt.date]
    effect: str | None = Field(description="the effect applied, e.g. '+38%'; None when no effect")
    source: Literal["learned", "stated", "none"]
    past_days: int = Field(description="days of past occurrences the effect was learned from")


class BacktestOut(BaseModel):
    wape: float | None
    baseline_wape: dict[str, float | None]
    origins: int = 0


class UnsettledOut(BaseModel):
    date: dt.date
    cost: float
    expected: float


class Projection(BaseModel):
    """Spend for a calendar period: actual settled days plus the forecast for the rest."""

    period: str  # e.g. "2026-12" or "2026-Q4"
    kind: Literal["month", "quarter"]
    end: dt.date
    actual: float
    forecast: float
    total: float
    lo: float
    hi: float
    budget: float | None = None


class HistoryPoint(BaseModel):
    date: dt.date
    cost: float
    settled: bool


class ForecastResult(BaseModel):
    method: str
    model: str = MODEL_NAME
    cutoff: dt.date
    first_day: dt.date
    settled_days: int
    horizon_days: int
    country: str
    by: str | None = None
    reconciliation: str | None = None
    series: list[SeriesForecastOut]
    events_used: list[EventUsed]
    backtest: BacktestOut
    unsettled_days: list[UnsettledOut]
    level_shifts: list[dt.date]
    projections: list[Projection]
    budget_usd: float | None = None
    history: list[HistoryPoint] = Field(default_factory=list, description="recent daily actuals (total)")

    def json_doc(self) -> dict[str, Any]:
        """The `finops forecast --json` document (the issue's contract + unsettled_days)."""
        full = self.model_dump(mode="json")
        return {
            "method": full["method"],
            "cutoff": full["cutoff"],
            "series": full["series"],
            "events_used": full["events_used"],
            "backtest": {"wape": self.backtest.wape, "baseline_wape": dict(self.backtest.baseline_wape)},
            "unsettled_days": full["unsettled_days"],
        }


def forecast(
    ctx: ToolContext,
    horizon_days: int = 30,
    by: str | None = None,
    calendar_path: Path | None = None,
    country: str | None = None,
    budget_usd: float | None = None,
) -> ForecastResult:
    """Forecast daily spend ``horizon_days`` past the last settled day (see the module docstring)."""
    from tools.forecasting.build import build_forecast

    if not 1 <= horizon_days <= MAX_HORIZON:
        raise BadInput(f"--horizon {horizon_days}: use 1 to {MAX_HORIZON} days")
    if budget_usd is not None and (not math.isfinite(budget_usd) or budget_usd <= 0):
        raise BadInput(f"--budget {budget_usd}: use a positive amount in USD")
    return build_forecast(
        ctx,
        horizon_days=horizon_days,
        by=by,
        calendar_path=calendar_path if calendar_path is not None else ctx.calendar_path,
        country=(country or ctx.country or "US").upper(),
        budget_usd=budget_usd,
    )


class ForecastIn(BaseModel):
    horizon_days: int = Field(30, ge=1, le=MAX_HORIZON, description="days to forecast after the last settled day")
    by: str | None = Field(None, description="split by a FOCUS column (ServiceName, SubAccountId, RegionId) or tag:KEY")
    budget_usd: float | None = Field(None, gt=0, description="monthly budget to compare the projection with")


class SeriesTotal(BaseModel):
    key: str
    total: float
    total_lo: float
    total_hi: float


class ForecastToolOut(BaseModel):
    """A compact forecast for a model: totals per series, daily points for the total only."""

    method: str
    cutoff: dt.date
    horizon_days: int
    projections: list[Projection]
    series_totals: list[SeriesTotal]
    total_points: list[ForecastPoint]
    events_used: list[EventUsed]
    backtest: BacktestOut
    unsettled_days: list[UnsettledOut]
    reconciliation: str | None = None


@tool(name="forecast", title="Forecast spend")
def forecast_tool(ctx: ToolContext, args: ForecastIn) -> ForecastToolOut:
    """Forecast daily cloud spend with 80% intervals: "what will we spend in December?".

    Uses weekday effects, month-start charges, public holidays and the company calendar; returns
    month-end and quarter-end projections, the method, the data cutoff and a backtest vs baselines.
    """
    try:
        r = forecast(ctx, args.horizon_days, by=args.by, budget_usd=args.budget_usd)
    except ToolError:
        raise
    except BadInput as exc:  # e.g. an unknown --by: a result the model can act on
        raise ToolError(exc.message) from None
    return ForecastToolOut(
        method=r.method,
        cutoff=r.cutoff,
        horizon_days=r.horizon_days,
        projections=r.projections,
        series_totals=[
            SeriesTotal(key=s.key, total=s.total, total_lo=s.total_lo, total_hi=s.total_hi) for s in r.series
        ],
        total_points=r.series[0].points,
        events_used=r.events_used,
        backtest=r.backtest,
        unsettled_days=r.unsettled_days,
        reconciliation=r.reconciliation,
    )
