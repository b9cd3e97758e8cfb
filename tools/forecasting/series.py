"""Daily EffectiveCost series from the ``focus`` table: dimension lookup, checks, billing lag.

A daily total with missing days, all-zero spend or too little history is bad input (exit 2) with one
line saying what to do. Recent days whose spend is far below the same weekday's recent level are
unsettled (billing data still arriving): they are excluded from fitting and reported.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tools.errors import BadInput, DataMissing

MIN_HISTORY_DAYS = 56
MAX_PARTS = 10
OTHER = "(other)"
MISSING = "(none)"
UNTAGGED = "(untagged)"
UNSETTLED_RATIO = 0.7
MAX_UNSETTLED_DAYS = 7


@dataclass(frozen=True)
class Dimension:
    """A resolved --by value: a FOCUS column or a tag key, with its SQL expression and parameters."""

    label: str
    sql: str
    params: tuple[str, ...] = ()


@dataclass
class DailySpend:
    """Daily spend from ``start``: the total and (with a dimension) the parts, zero-filled."""

    start: dt.date
    total: np.ndarray
    parts: dict[str, np.ndarray] = field(default_factory=dict)
    dimension: Dimension | None = None

    @property
    def last_day(self) -> dt.date:
        return self.start + dt.timedelta(days=len(self.total) - 1)


@dataclass(frozen=True)
class UnsettledDay:
    day: dt.date
    cost: float
    expected: float


def resolve_dimension(con: Any, by: str) -> Dimension:
    """Map --by (a FOCUS column, ``tag:key``, ``Tags['key']``, a bare tag key) to SQL; else BadInput."""
    from tools.billing import store

    columns = store.table_columns(con)
    text = by.strip()
    tag_key = _tag_syntax(text)
    if tag_key is None:
        for name, typ in columns.items():
            if name.lower() == text.lower():
                if not typ.upper().startswith("VARCHAR"):
                    raise BadInput(f"--by {by}: {name} is a {typ} column, not a dimension; try ServiceName")
                return Dimension(name, f'"{name}"')
    tag_cols = store.tag_columns(con)
    key = tag_key if tag_key is not None else text
    if key in tag_cols:  # materialised: no scan of the Tags map needed
        return Dimension(f"tag:{key}", f'"{tag_cols[key]}"')
    keys = set(tag_cols) | _tag_keys(con)
    if key in keys:
        return Dimension(f"tag:{key}", "Tags[?]", (key,))
    dims = [n for n, t in columns.items() if t.upper().startswith("VARCHAR") and not n.startswith("x_")]
    options = dims + [f"tag:{k}" for k in sorted(keys)]
    close = difflib.get_close_matches(text, options, n=1, cutoff=0.5) or difflib.get_close_matches(
        text.lower(), [o.lower() for o in options], n=1, cutoff=0.5
    )
    hint = f"did you mean {close[0]}? " if close else ""
    raise BadInput(f"--by {by}: no such column or tag key; {hint}try ServiceName, SubAccountId, RegionId or tag:KEY")


def _tag_syntax(text: str) -> str | None:
    if text.lower().startswith("tag:"):
        return text[4:].strip()
    low = text.replace('"', "'")
    if low.lower().startswith("tags['") and low.endswith("']"):
        return low[6:-2]
    return None


def _tag_keys(con: Any) -> set[str]:
    rows = con.execute("SELECT DISTINCT unnest(map_keys(Tags)) FROM focus").fetchall()
    return {str(r[0]) for r in rows if r[0] is not None}


def read_daily(db_path: Path, by: str | None = None) -> DailySpend:
    """Daily EffectiveCost (total, and parts by ``by``) from the loaded data; checks gaps and zeros."""
    from tools.billing import store

    with store.reader(db_path) as con:
        rows = con.execute(
            "SELECT CAST(date_trunc('day', ChargePeriodStart) AS DATE) AS day, sum(EffectiveCost)::DOUBLE "
            "FROM focus WHERE ChargePeriodStart IS NOT NULL GROUP BY 1 ORDER BY 1"
        ).fetchall()
        if not rows:
            raise DataMissing(f"no billing rows in {db_path}; run `finops demo` or `finops ingest PATH`")
        spend = _total(rows)
        if by is not None:
            dim = resolve_dimension(con, by)
            part_rows = con.execute(
                f"SELECT CAST(date_trunc('day', ChargePeriodStart) AS DATE) AS day, "
                f"coalesce(CAST({dim.sql} AS VARCHAR), ?) AS part, sum(EffectiveCost)::DOUBLE "
                "FROM focus WHERE ChargePeriodStart IS NOT NULL GROUP BY 1, 2",
                [*dim.params, UNTAGGED if dim.label.startswith("tag:") else MISSING],
            ).fetchall()
            spend.parts = _parts(spend, part_rows)
            spend.dimension = dim
    return spend


def _total(rows: list[tuple[Any, ...]]) -> DailySpend:
    days = [r[0] for r in rows]
    start, end = days[0], days[-1]
    n = (end - start).days + 1
    missing = n - len(days)
    if missing:
        have = set(days)
        first = next(start + dt.timedelta(days=i) for i in range(n) if start + dt.timedelta(days=i) not in have)
        raise BadInput(
            f"daily spend has {missing} missing day(s) between {start} and {end} (first {first}); "
            "ingest the missing billing period before forecasting"
        )
    y = np.array([float(r[1] or 0.0) for r in rows])
    if not np.any(y != 0):
        raise BadInput(f"every day from {start} to {end} has zero EffectiveCost; nothing to forecast")
    return DailySpend(start=start, total=y)


def _parts(spend: DailySpend, rows: list[tuple[Any, ...]]) -> dict[str, np.ndarray]:
    n = len(spend.total)
    parts: dict[str, np.ndarray] = {}
    for day, key, cost in rows:
        arr = parts.setdefault(str(key), np.zeros(n))
        arr[(day - spend.start).days] += float(cost or 0.0)
    recent = {k: float(v[-90:].sum()) for k, v in parts.items()}
    ranked = sorted(parts, key=lambda k: (-recent[k], k))
    keep = ranked[:MAX_PARTS] if len(ranked) > MAX_PARTS + 1 else ranked
    out = {k: parts[k] for k in keep}
    rest = [parts[k] for k in ranked if k not in out]
    if rest:
        out[OTHER] = np.sum(rest, axis=0)
    return out


def unsettled_tail(start: dt.date, y: np.ndarray, expected: np.ndarray | None = None) -> list[UnsettledDay]:
    """Trailing days far below what was expected for them (billing data still arriving).

    ``expected`` holds the expected values of the last ``len(expected)`` days (the calendar model fitted
    on the days before them); without it, the median of the same weekday over the 4 weeks before.
    """
    n = len(y)
    tail = len(expected) if expected is not None else min(MAX_UNSETTLED_DAYS, max(n - 28 - MAX_UNSETTLED_DAYS, 0))
    ref_end = n - tail
    out: list[UnsettledDay] = []
    for i in range(n - 1, ref_end - 1, -1):
        if expected is not None:
            exp_i = float(expected[i - ref_end])
        else:
            same = [y[j] for j in range(i - 7, -1, -7) if j < ref_end][:4]
            if not same:
                break
            exp_i = float(np.median(same))
        if exp_i <= 0 or y[i] >= UNSETTLED_RATIO * exp_i:
            break
        out.append(UnsettledDay(start + dt.timedelta(days=i), float(y[i]), exp_i))
    return sorted(out, key=lambda u: u.day)


def check_history(start: dt.date, n_settled: int) -> None:
    if n_settled < MIN_HISTORY_DAYS:
        last = start + dt.timedelta(days=n_settled - 1)
        raise BadInput(
            f"too little history: {n_settled} settled day(s) from {start} to {last}; "
            f"forecasting needs at least {MIN_HISTORY_DAYS} days (8 weeks)"
        )
