"""tools.forecast: calendar-aware forecast from the focus table, with intervals, lag and --by."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from tools.billing import store
from tools.context import ToolContext
from tools.errors import BadInput, ToolError
from tools.forecast import forecast

START = dt.date(2025, 1, 1)
SALE = [(dt.date(2025, 6, 10), dt.date(2025, 6, 12)), (dt.date(2026, 6, 10), dt.date(2026, 6, 12))]


def daily_series(days: int, seed: int = 3, level: float = 1000.0, sale: float = 0.6) -> np.ndarray:
    """Weekend dip, day-1 charge, a yearly sale (+60%), mild growth and 4% noise."""
    rng = np.random.default_rng(seed)
    out = np.empty(days)
    for i in range(days):
        d = START + dt.timedelta(days=i)
        v = level * (1 + 0.2 * i / 365) * (0.7 if d.weekday() >= 5 else 1.0) * (1.5 if d.day == 1 else 1.0)
        if any(a <= d <= b for a, b in SALE):
            v *= 1 + sale
        out[i] = v * math.exp(rng.normal(0, 0.04))
    return out


def make_db(
    home: Path,
    parts: dict[str, np.ndarray],
    start: dt.date = START,
    skip_days: Sequence[int] = (),
    tags: dict[str, str] | None = None,
) -> ToolContext:
    """A real DuckDB home whose focus table has one row per part and day (ServiceName = part)."""
    import pandas as pd

    rows = []
    for k, (name, y) in enumerate(parts.items()):
        for i, v in enumerate(y):
            if i in skip_days:
                continue
            day = dt.datetime.combine(start + dt.timedelta(days=i), dt.time())
            team = (tags or {}).get(name, f"team{k}")
            rows.append((day, day + dt.timedelta(days=1), float(v), name, team))
    frame = pd.DataFrame(rows, columns=["s", "e", "cost", "svc", "team"])
    with store.writer(home / "finops.duckdb") as con:
        con.register("frame", frame)
        con.execute(
            "INSERT INTO focus (ChargePeriodStart, ChargePeriodEnd, EffectiveCost, ServiceName, RegionId, Tags) "
            "SELECT s, e, cost, svc, 'us-east-1', map_from_entries([('team', team)]) FROM frame"
        )
    return ToolContext(home=home)


def write_calendar(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    return path


SALE_CAL = """\
events:
  - {name: Summer sale, start: 2025-06-10, end: 2025-06-12, repeat: yearly, effect: "+10%"}
  - {name: EU launch, start: 2026-07-20, end: 2026-07-22, effect: "+40%"}
  - {name: Offsite, start: 2026-07-27, end: 2026-07-27}
"""


@pytest.fixture
def sale_home(tmp_path: Path) -> ToolContext:
    # 2025-01-01 .. 2026-06-30: the 2026 sale is in the history, so the next occurrence is 2027
    return make_db(tmp_path / "home", {"Amazon EC2": daily_series(546)})


def test_company_event_effect_is_learned_from_past_occurrences_not_the_stated_one(tmp_path: Path) -> None:
    ctx = make_db(tmp_path / "home", {"Amazon EC2": daily_series(520)})  # through 2026-06-04
    cal = write_calendar(tmp_path, SALE_CAL)
    result = forecast(ctx, 14, calendar_path=cal)
    sale = next(e for e in result.events_used if e.name == "Summer sale")
    assert sale.source == "learned" and sale.past_days == 3
    assert sale.dates == [dt.date(2026, 6, 10), dt.date(2026, 6, 11), dt.date(2026, 6, 12)]
    assert sale.effect is not None and 0.45 <= float(sale.effect.strip("%")) / 100 <= 0.75  # true +60%, stated +10%
    points = {p.date: p.yhat for p in result.series[0].points}
    assert points[dt.date(2026, 6, 10)] / points[dt.date(2026, 6, 17)] > 1.4  # both Wednesdays


def test_stated_effect_is_used_for_an_event_that_never_happened(tmp_path: Path) -> None:
    ctx = make_db(tmp_path / "home", {"Amazon EC2": daily_series(546)})  # through 2026-06-30
    result = forecast(ctx, 30, calendar_path=write_calendar(tmp_path, SALE_CAL))
    launch = next(e for e in result.events_used if e.name == "EU launch")
    assert (launch.source, launch.effect, launch.past_days) == ("stated", "+40%", 0)
    offsite = next(e for e in result.events_used if e.name == "Offsite")
    assert (offsite.source, offsite.effect) == ("none", None)
    points = {p.date: p.yhat for p in result.series[0].points}
    assert points[dt.date(2026, 7, 20)] / points[dt.date(2026, 7, 13)] == pytest.approx(1.4, rel=0.05)


def test_forecast_states_method_cutoff_and_beats_baselines_in_its_backtest(sale_home: ToolContext) -> None:
    result = forecast(sale_home, 30)
    assert result.cutoff == dt.date(2026, 6, 30) and result.settled_days == 546
    assert "fitted on 546 settled days through 2026-06-30" in result.method
    bt = result.backtest
    assert bt.origins >= 4 and bt.wape is not None
    assert bt.wape < (bt.baseline_wape["seasonal_naive"] or 0) and bt.wape < (bt.baseline_wape["run_rate"] or 0)
    total = result.series[0]
    assert len(total.points) == 30 and total.points[0].date == dt.date(2026, 7, 1)
    assert all(p.lo <= p.yhat <= p.hi for p in total.points)
    assert total.total_lo <= total.total <= total.total_hi
    assert total.total == pytest.approx(sum(p.yhat for p in total.points), abs=0.05)
    assert total.points[0].yhat > 1.3 * total.points[1].yhat  # July 1st (Wed) carries the month-start charge


def test_unsettled_recent_days_are_excluded_from_fitting_and_reported(tmp_path: Path) -> None:
    y = daily_series(546)
    y[-2] *= 0.35
    y[-1] *= 0.1
    result = forecast(make_db(tmp_path / "home", {"Amazon EC2": y}), 30)
    assert [u.date for u in result.unsettled_days] == [dt.date(2026, 6, 29), dt.date(2026, 6, 30)]
    assert result.cutoff == dt.date(2026, 6, 28)
    assert result.series[0].points[0].date == dt.date(2026, 6, 29)  # the unsettled days are forecast instead
    assert [h.settled for h in result.history[-3:]] == [True, False, False]


def test_month_end_projection_adds_settled_actuals_to_the_forecast(tmp_path: Path) -> None:
    y = daily_series(530)  # through 2026-06-14
    result = forecast(make_db(tmp_path / "home", {"Amazon EC2": y}), 30, budget_usd=30000)
    june = next(p for p in result.projections if p.period == "2026-06")
    assert june.actual == pytest.approx(float(y[-14:].sum()), abs=0.05)
    first16 = sum(p.yhat for p in result.series[0].points[:16])
    assert june.forecast == pytest.approx(first16, rel=1e-3)
    assert june.lo <= june.total <= june.hi and june.budget == 30000
    q3 = next(p for p in result.projections if p.period == "2026-Q3")
    assert q3.actual == 0 and q3.end == dt.date(2026, 9, 30) and q3.budget == 90000


def test_by_service_parts_are_reconciled_to_sum_to_the_total(tmp_path: Path) -> None:
    parts = {"Amazon EC2": daily_series(400, seed=1), "Amazon S3": daily_series(400, seed=2, level=300)}
    result = forecast(make_db(tmp_path / "home", parts), 21, by="servicename")
    assert result.by == "ServiceName" and result.reconciliation and "proportional" in result.reconciliation
    total, *rest = result.series
    assert [s.key for s in rest] == ["Amazon EC2", "Amazon S3"]
    for i, p in enumerate(total.points):
        assert sum(s.points[i].yhat for s in rest) == pytest.approx(p.yhat, abs=0.05)
    assert sum(s.total for s in rest) == pytest.approx(total.total, abs=0.1)
    assert rest[0].total > 2.5 * rest[1].total


def test_by_tag_key_splits_by_the_tag_values(tmp_path: Path) -> None:
    parts = {"a": daily_series(200, seed=1), "b": daily_series(200, seed=2)}
    ctx = make_db(tmp_path / "home", parts, tags={"a": "web", "b": "data"})
    result = forecast(ctx, 7, by="tag:team")
    assert result.by == "tag:team" and sorted(s.key for s in result.series[1:]) == ["data", "web"]


@pytest.mark.parametrize(
    ("by", "message"),
    [("servce", "did you mean ServiceName"), ("EffectiveCost", "not a dimension"), ("tag:nope", "no such column")],
)
def test_unknown_or_non_dimension_by_is_bad_input(sale_home: ToolContext, by: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        forecast(sale_home, 7, by=by)


def test_too_little_history_is_bad_input(tmp_path: Path) -> None:
    ctx = make_db(tmp_path / "home", {"x": daily_series(40)})
    with pytest.raises(BadInput, match="too little history: 40 settled day"):
        forecast(ctx, 7)


def test_missing_days_are_bad_input_naming_the_first_gap(tmp_path: Path) -> None:
    ctx = make_db(tmp_path / "home", {"x": daily_series(120)}, skip_days=[50, 51])
    with pytest.raises(BadInput, match=r"2 missing day\(s\).*first 2025-02-20"):
        forecast(ctx, 7)


def test_all_zero_spend_is_bad_input(tmp_path: Path) -> None:
    ctx = make_db(tmp_path / "home", {"x": np.zeros(120)})
    with pytest.raises(BadInput, match="zero EffectiveCost"):
        forecast(ctx, 7)


def test_malformed_calendar_is_bad_input(sale_home: ToolContext, tmp_path: Path) -> None:
    cal = write_calendar(tmp_path, "events:\n  - {name: Sale, start: 2026-13-01}\n")
    with pytest.raises(BadInput, match=r"calendar.yaml: events\[0\] \(Sale\) start"):
        forecast(sale_home, 7, calendar_path=cal)


def test_horizon_out_of_range_is_bad_input(sale_home: ToolContext) -> None:
    with pytest.raises(BadInput, match="--horizon 0"):
        forecast(sale_home, 0)


def test_forecast_tool_is_registered_and_returns_a_compact_answer(sale_home: ToolContext) -> None:
    import tools

    tool = tools.load_registry()["forecast"]
    assert "December" in tool.description and tool.read_only
    out = tool.call(sale_home, {"horizon_days": 10, "by": "ServiceName"})
    doc = out.model_dump(mode="json")
    assert doc["cutoff"] == "2026-06-30" and len(doc["total_points"]) == 10
    assert [s["key"] for s in doc["series_totals"]] == ["total", "Amazon EC2"]
    with pytest.raises(ToolError, match="horizon_days"):
        tool.call(sale_home, {"horizon_days": 0})
    with pytest.raises(ToolError, match="did you mean ServiceName"):
        tool.call(sale_home, {"by": "service"})


def test_calendar_regression_meets_the_accuracy_goals_on_seeded_synthetic_series() -> None:
    """The issue's goals on a small seeded set: WAPE <= 0.6x seasonal naive and <= 0.7x run rate,
    better than seasonal naive on >= 90% of series, 80% intervals covering 75-85%."""
    from evals.forecast.runner import synthetic_eval

    report = synthetic_eval(n=12, seed=7)
    mine = report["methods"]["calendar_regression"]
    assert mine["wape_vs_seasonal_naive"] <= 0.6
    assert mine["wape_vs_run_rate"] <= 0.7
    assert mine["win_rate_vs_seasonal_naive"] >= 0.9
    assert 0.75 <= mine["coverage_80"] <= 0.85


@pytest.mark.slow
def test_on_the_demo_org_the_forecast_beats_both_baselines(tmp_path: Path) -> None:
    """Rolling-origin backtest on the generated demo org (total + top services; loads the demo: ~1 min)."""
    from evals.forecast.demo import demo_eval
    from tools.billing.demo import load_demo

    load_demo(ToolContext(home=tmp_path / "home"))
    report = demo_eval(tmp_path / "home")
    mine = report["methods"]["calendar_regression"]
    assert mine["wape_vs_seasonal_naive"] < 0.8 and mine["wape_vs_run_rate"] < 0.8
    total = report["per_series_wape"]["total"]
    assert total["calendar_regression"] < min(total["seasonal_naive"], total["run_rate"])


def test_a_series_seasonal_naive_predicts_better_is_forecast_seasonal_naive_and_says_so(tmp_path: Path) -> None:
    """A flat service with an additive Sunday job across a level shift (the log model overshoots Sundays)."""
    rng = np.random.default_rng(5)
    days = 300
    y = np.array([73.0 if i < 150 else 243.0 for i in range(days)])
    sundays = np.array([(START + dt.timedelta(days=i)).weekday() == 6 for i in range(days)])
    y[sundays] += 220 + rng.normal(0, 5, sundays.sum())
    result = forecast(make_db(tmp_path / "home", {"Amazon SageMaker": y}), 14)
    assert result.method.startswith("Seasonal naive") and "beat the calendar regression" in result.method
    assert [p.yhat for p in result.series[0].points[:7]] == pytest.approx(list(y[-7:]), abs=0.01)
    assert result.events_used == []
