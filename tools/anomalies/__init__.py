"""Cost anomaly detection on daily EffectiveCost series of every dimension.

:func:`detect` loads one grouped series per dimension from DuckDB, runs the seasonal calendar-aware
robust baseline (:mod:`tools.anomalies.baseline`), groups flagged days into incidents, drills each
down to the resources/usage types that explain it, and reports every incident once at its most
specific dimension. The last ``lag_days`` of data are unsettled: incidents that start there are
returned as ``provisional``, not as anomalies.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from tools.anomalies.models import Anomaly, Contributor, DetectOptions, DetectResult
from tools.billing import store
from tools.errors import BadInput

if TYPE_CHECKING:
    import duckdb

    from tools.anomalies.baseline import DayKinds, Params
    from tools.anomalies.incidents import Candidate
    from tools.anomalies.series import Panel
    from tools.context import ToolContext

DEFAULT_LOOKBACK_DAYS = 30
MIN_DAILY_FLOOR = 25.0
MIN_DAILY_SHARE = 0.003


def calendar_kinds(days: list[dt.date], calendar_path: object | None, country: str | None) -> DayKinds:
    """Month starts, public holidays of ``country`` and the company calendar's events for ``days``."""
    from pathlib import Path

    from tools import calendar
    from tools.anomalies.baseline import day_kinds

    events: dict[dt.date, list[tuple[str, float | None]]] = {}
    if calendar_path is not None and days:
        loaded = calendar.load_calendar(Path(str(calendar_path)))
        ratios = {e.name: e.effect_ratio for e in loaded}
        for day, names in calendar.event_days(loaded, days[0], days[-1]).items():
            events[day] = [(name, ratios.get(name)) for name in names]
    holidays = calendar.holiday_days(country, days[0], days[-1]) if country and days else {}
    return day_kinds(days, events, holidays)


def auto_min_daily(data_total: np.ndarray) -> float:
    """Minimum $/day impact: 0.3% of the org's median daily spend, at least $25."""
    positive = data_total[data_total > 0]
    median = float(np.median(positive)) if len(positive) else 0.0
    return max(MIN_DAILY_FLOOR, MIN_DAILY_SHARE * median)


def detect_on(
    con: duckdb.DuckDBPyConnection,
    opts: DetectOptions,
    *,
    calendar_path: object | None = None,
    country: str | None = "US",
) -> DetectResult:
    """Detect anomalies on an open connection (see :func:`detect`)."""
    from tools.anomalies import baseline, incidents, series

    data = series.load(con, opts.dimensions)
    if data is None:
        return DetectResult(anomalies=[])
    days = data.days
    kinds = calendar_kinds(days, calendar_path if opts.use_calendar else None, country if opts.use_calendar else None)
    total = data.cells.values.sum(axis=0)
    min_daily = opts.min_daily_usd if opts.min_daily_usd is not None else auto_min_daily(total)
    params = baseline.Params(k=opts.k, min_pct=opts.min_pct, min_abs=min_daily)
    settled = max(0, len(days) - 1 - opts.lag_days)
    since = opts.since or days[settled] - dt.timedelta(days=DEFAULT_LOOKBACK_DAYS - 1)
    first = max(0, (since - days[0]).days)
    n_series = sum(len(p.keys) for p in data.panels.values())
    found = _scan(data.panels, opts.method, kinds, params, first)
    if opts.until is not None:
        found = [c for c in found if days[c.start] <= opts.until]
    for cand in found:
        incidents.drill_down(cand, data.cells, kinds.month_start)
    accepted, news = incidents.split_announced(incidents.deduplicate(found, data.cells), kinds.announced)
    out = [incidents.to_anomaly(c, data.cells, days, kinds, settled) for c in accepted]
    expected_changes = [incidents.to_anomaly(c, data.cells, days, kinds, settled) for c in news]
    out.sort(key=lambda a: (-abs(a.impact_usd), a.start, a.id))
    return DetectResult(
        anomalies=[a for a in out if not a.provisional],
        provisional=[a for a in out if a.provisional],
        announced=expected_changes,
        first_day=days[0],
        last_day=days[-1],
        settled_through=days[settled],
        since=since,
        series=n_series,
        min_daily_usd=round(min_daily, 2),
    )


def _scan(panels: dict[str, Panel], method: str, kinds: DayKinds, params: Params, first: int) -> list[Candidate]:
    """Run the detector once over the series of every dimension stacked together, then split."""
    from tools.anomalies import baseline, incidents

    parts = []
    for dim, panel in panels.items():
        keep = np.flatnonzero(baseline.may_flag(panel.values, params.min_abs))
        parts += [(dim, panel.keys[i], panel.values[i]) for i in keep]
    if not parts:
        return []
    y = np.stack([row for _, _, row in parts])
    res = baseline.seasonal(y, kinds, params) if method == "seasonal" else baseline.zscore28(y, params)
    found: list[Candidate] = []
    start = 0
    for dim in panels:
        keys = [key for d, key, _ in parts if d == dim]
        if keys:
            part = slice(start, start + len(keys))
            sub = baseline.Result(
                res.expected[part], res.low[part], res.high[part], res.flag[part],
                None if res.restart is None else res.restart[part],
            )  # fmt: skip
            found += incidents.candidates(dim, keys, y[part], sub, first)
            start += len(keys)
    return found


def detect(ctx: ToolContext, opts: DetectOptions | None = None) -> DetectResult:
    """Detect anomalies in the loaded billing data with the calendar and country of ``ctx``."""
    opts = opts or DetectOptions()
    if opts.k <= 0 or opts.min_pct < 0 or opts.lag_days < 0:
        raise BadInput("k must be > 0, min_pct >= 0 and lag_days >= 0")
    with store.reader(ctx.db_path) as con:
        return detect_on(con, opts, calendar_path=ctx.calendar_path, country=opts.country or ctx.country)


__all__ = ["Anomaly", "Contributor", "DetectOptions", "DetectResult", "detect", "detect_on"]
