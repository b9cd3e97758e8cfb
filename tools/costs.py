"""The structured cost query: metric, group-by, filters, period, granularity, top-N, comparison.

This is the tool an LLM should prefer over raw SQL: a :class:`CostQuery` compiles to one SQL statement
that passes the same guard as every query and runs on the same read-only, limited connection.
Relative periods are pinned to the data: "today" is the day after the last day with charges, so
"last month" on an export that ends 30 Nov means November.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, field_validator

from tools.billing import catalog, store
from tools.context import ToolContext
from tools.errors import ToolError
from tools.registry import tool

if TYPE_CHECKING:
    import duckdb

Metric = Literal[
    "effective_cost",
    "billed_cost",
    "list_cost",
    "contracted_cost",
    "savings",
    "consumed_quantity",
    "tokens",
    "cost_per_million_tokens",
    "row_count",
]
METRIC_SQL: dict[str, str] = {
    "effective_cost": "sum(EffectiveCost)",
    "billed_cost": "sum(BilledCost)",
    "list_cost": "sum(ListCost)",
    "contracted_cost": "sum(ContractedCost)",
    "savings": "sum(ListCost) - sum(EffectiveCost)",
    "consumed_quantity": "sum(ConsumedQuantity)",
    "tokens": "sum(ConsumedQuantity) FILTER (WHERE ConsumedUnit ILIKE '%token%')",
    "cost_per_million_tokens": (
        "sum(EffectiveCost) FILTER (WHERE ConsumedUnit ILIKE '%token%') * 1000000 / "
        "nullif(sum(ConsumedQuantity) FILTER (WHERE ConsumedUnit ILIKE '%token%'), 0)"
    ),
    "row_count": "count(*)",
}
METRIC_LABEL = {
    "effective_cost": "effective_cost",
    "billed_cost": "billed_cost",
    "list_cost": "list_cost",
    "contracted_cost": "contracted_cost",
    "savings": "savings_vs_list",
    "consumed_quantity": "quantity",
    "tokens": "tokens",
    "cost_per_million_tokens": "cost_per_1m_tokens",
    "row_count": "rows",
}
# Friendly names for dimensions -> the column (or expression) they mean.
DIMENSION_ALIASES: dict[str, str] = {
    "service": "ServiceName",
    "services": "ServiceName",
    "provider": "ProviderName",
    "cloud": "ProviderName",
    "account": "SubAccountName",
    "subaccount": "SubAccountName",
    "sub_account": "SubAccountName",
    "account_id": "SubAccountId",
    "billing_account": "BillingAccountName",
    "region": "RegionId",
    "category": "ServiceCategory",
    "service_category": "ServiceCategory",
    "subcategory": "ServiceSubcategory",
    "resource": "ResourceId",
    "resource_name": "ResourceName",
    "resource_type": "ResourceType",
    "sku": "SkuId",
    "meter": "SkuMeter",
    "charge_category": "ChargeCategory",
    "pricing_category": "PricingCategory",
    "zone": "AvailabilityZone",
    "availability_zone": "AvailabilityZone",
    "publisher": "PublisherName",
    "commitment": "CommitmentDiscountId",
    "commitment_type": "CommitmentDiscountType",
    "currency": "BillingCurrency",
    "unit": "ConsumedUnit",
    "usage_type": "x_UsageType",
}
MODEL_EXPR = "json_extract_string(SkuPriceDetails, '$.ModelId')"
PeriodKind = Literal[
    "all",
    "this_month",
    "last_month",
    "month_to_date",
    "last_n_days",
    "last_n_months",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
    "year_to_date",
    "range",
]
Granularity = Literal["none", "day", "week", "month", "quarter", "year"]
Compare = Literal["none", "previous_period", "same_period_last_year"]


class Period(BaseModel):
    """A time window over ChargePeriodStart. Relative kinds are pinned to the last day of data."""

    kind: PeriodKind = "all"
    n: int | None = Field(default=None, ge=1, le=3660, description="N for last_n_days / last_n_months")
    start: dt.date | None = Field(default=None, description="inclusive start, for kind=range")
    end: dt.date | None = Field(default=None, description="exclusive end, for kind=range")


class Filter(BaseModel):
    """dimension op values; dimension is a FOCUS column, an alias (service, account, region ...),
    'tag:<key>' or 'model'."""

    dimension: str
    op: Literal["=", "!=", "in", "not in", "contains", "is null", "is not null"] = "in"
    values: list[str] = Field(default_factory=list)

    @field_validator("values", mode="before")
    @classmethod
    def _one_value(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class CostQuery(BaseModel):
    """A cost question as data. Prefer this over raw SQL."""

    metric: Metric = "effective_cost"
    group_by: list[str] = Field(default_factory=list, description="columns, aliases, 'tag:<key>' or 'model'")
    filters: list[Filter] = Field(default_factory=list)
    period: Period = Field(default_factory=Period)
    granularity: Granularity = "none"
    top_n: int | None = Field(default=None, ge=1, le=1000)
    compare: Compare = "none"
    order: Literal["desc", "asc", "time"] = "desc"


class CostResult(BaseModel):
    """The answer table and how it was computed."""

    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool = False
    sql: str
    metric: str
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    previous_start: dt.date | None = None
    previous_end: dt.date | None = None
    data_last_day: dt.date | None = None
    notes: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------- periods


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    return dt.date(d.year + y, m + 1, 1)


def quarter_start(d: dt.date) -> dt.date:
    return dt.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def resolve_period(period: Period, anchor: dt.date, first_day: dt.date) -> tuple[dt.date, dt.date]:
    """[start, end) for ``period``; ``anchor`` is "today" (the day after the last day of data)."""
    k = period.kind
    if k == "all":
        return first_day, anchor
    if k in ("this_month", "month_to_date"):
        return month_start(anchor), anchor
    if k == "last_month":
        return add_months(month_start(anchor), -1), month_start(anchor)
    if k == "last_n_days":
        return anchor - dt.timedelta(days=period.n or 30), anchor
    if k == "last_n_months":
        return add_months(month_start(anchor), -(period.n or 3)), month_start(anchor)
    if k == "this_quarter":
        return quarter_start(anchor), anchor
    if k == "last_quarter":
        q = quarter_start(anchor)
        return add_months(q, -3), q
    if k in ("this_year", "year_to_date"):
        return dt.date(anchor.year, 1, 1), anchor
    if k == "last_year":
        return dt.date(anchor.year - 1, 1, 1), dt.date(anchor.year, 1, 1)
    if period.start is None:
        raise ToolError("period kind 'range' needs start (and optionally end) dates")
    return period.start, period.end or anchor


def previous_window(start: dt.date, end: dt.date, compare: Compare) -> tuple[dt.date, dt.date]:
    if compare == "same_period_last_year":
        return _minus_year(start), _minus_year(end)
    if start.day == 1 and end.day == 1:  # whole months: compare with the same number of months before
        months = (end.year - start.year) * 12 + end.month - start.month
        return add_months(start, -months), start
    if start.day == 1 and end.month == start.month:  # month to date: same days of the previous month
        prev = add_months(start, -1)
        return prev, prev + (end - start)
    return start - (end - start), start


def _minus_year(d: dt.date) -> dt.date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 Feb
        return d.replace(year=d.year - 1, day=28)


# ---------------------------------------------------------------- dimensions


class Dimensions:
    """Resolves dimension names against the loaded table (columns, materialised tags, Tags map)."""

    def __init__(self, columns: dict[str, str], tag_columns: dict[str, str]) -> None:
        self.columns = columns
        self.lower = {c.lower(): c for c in columns}
        self.tag_columns = tag_columns

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> Dimensions:
        return cls(store.table_columns(con), store.tag_columns(con))

    def expr(self, name: str) -> tuple[str, str]:
        """(SQL expression, output column label) for a dimension name."""
        raw = name.strip()
        key = raw.lower().replace(" ", "_")
        if key.startswith("tag:") or key.startswith("tags."):
            return self._tag(raw.split(":", 1)[1] if ":" in raw else raw.split(".", 1)[1])
        if key in ("model", "model_id", "ai_model"):
            return MODEL_EXPR, "model"
        if key == "tagged":
            return "(Tags IS NOT NULL)", "tagged"
        column = self.lower.get(key) or self.lower.get(DIMENSION_ALIASES.get(key, "").lower())
        if column is not None:
            return _q(column), column
        if any(k == raw or k.lower() == key for k in self.tag_columns):
            return self._tag(raw)
        close = _close(raw, list(self.columns) + [f"tag:{k}" for k in self.tag_columns] + list(DIMENSION_ALIASES))
        raise ToolError(f"unknown dimension {raw!r}; did you mean {close}? (tags: 'tag:<key>')")

    def _tag(self, key: str) -> tuple[str, str]:
        key = key.strip()
        col = self.tag_columns.get(key)
        if col is None:
            col = next((c for k, c in self.tag_columns.items() if k.lower() == key.lower()), None)
        if col is not None:
            return _q(col), f"tag_{key}"
        return f"Tags[{_lit(key)}]", f"tag_{key}"


def _close(word: str, options: list[str]) -> str:
    import difflib

    lowered = {o.lower(): o for o in options}
    hits = difflib.get_close_matches(word.lower(), list(lowered), n=3, cutoff=0.5)
    return " or ".join(repr(lowered[h]) for h in hits) if hits else "one of ServiceName, RegionId, tag:<key>"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# ---------------------------------------------------------------- compiling


def data_window(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, dt.date]:
    """(first day with charges, anchor = the day after the last day with charges)."""
    row = con.execute(f"SELECT min(ChargePeriodStart), max(ChargePeriodStart) FROM {catalog.TABLE}").fetchone()
    if not row or row[0] is None:
        raise ToolError("no charges loaded; run `finops demo` or `finops ingest PATH`")
    return row[0].date(), row[1].date() + dt.timedelta(days=1)


def _filter_sql(f: Filter, dims: Dimensions) -> str:
    expr, _ = dims.expr(f.dimension)
    if f.op == "is null":
        return f"{expr} IS NULL"
    if f.op == "is not null":
        return f"{expr} IS NOT NULL"
    if not f.values:
        raise ToolError(f"filter on {f.dimension} needs at least one value")
    if f.op == "contains":
        return "(" + " OR ".join(f"{expr} ILIKE {_lit('%' + v + '%')}" for v in f.values) + ")"
    values = ", ".join(_lit(v) for v in f.values)
    if f.op in ("=", "in"):
        return f"{expr} IN ({values})"
    return f"{expr} IS DISTINCT FROM {_lit(f.values[0])}" if len(f.values) == 1 else f"{expr} NOT IN ({values})"


def _ts(d: dt.date) -> str:
    return f"TIMESTAMP '{d.isoformat()} 00:00:00'"


def compile_query(
    q: CostQuery, dims: Dimensions, first_day: dt.date, anchor: dt.date
) -> tuple[str, tuple[dt.date, dt.date], tuple[dt.date, dt.date] | None]:
    """SQL for ``q`` plus the resolved [start, end) window (and the comparison window)."""
    start, end = resolve_period(q.period, anchor, first_day)
    if end <= start:
        raise ToolError(f"empty period {start}..{end}")
    metric = METRIC_SQL[q.metric]
    label = METRIC_LABEL[q.metric]
    selects: list[str] = []
    groups: list[str] = []
    if q.granularity != "none":
        selects.append(f"CAST(date_trunc('{q.granularity}', ChargePeriodStart) AS DATE) AS {q.granularity}")
        groups.append(q.granularity)
    for name in q.group_by:
        expr, out = dims.expr(name)
        selects.append(expr if expr == _q(out) else f"{expr} AS {_q(out)}")
        groups.append(_q(out))
    where = [_filter_sql(f, dims) for f in q.filters]
    if q.metric in ("tokens", "cost_per_million_tokens"):
        where.append("ConsumedUnit ILIKE '%token%'")
    prev: tuple[dt.date, dt.date] | None = None
    if q.compare != "none":
        prev = previous_window(start, end, q.compare)
        cur_f = f"ChargePeriodStart >= {_ts(start)} AND ChargePeriodStart < {_ts(end)}"
        prev_f = f"ChargePeriodStart >= {_ts(prev[0])} AND ChargePeriodStart < {_ts(prev[1])}"
        cur_m = _filtered(metric, cur_f)
        prev_m = _filtered(metric, prev_f)
        selects += [
            f"{cur_m} AS current_{label}",
            f"{prev_m} AS previous_{label}",
            f"coalesce({cur_m}, 0) - coalesce({prev_m}, 0) AS change",
            f"round(100.0 * (coalesce({cur_m}, 0) - {prev_m}) / nullif(abs({prev_m}), 0), 1) AS change_pct",
        ]
        where.append(f"(({cur_f}) OR ({prev_f}))")
        order_key = "abs(change) DESC" if groups else ""
    else:
        where.append(f"ChargePeriodStart >= {_ts(start)} AND ChargePeriodStart < {_ts(end)}")
        selects.append(f"{metric} AS {label}")
        order_key = f"{label} {'ASC' if q.order == 'asc' else 'DESC'} NULLS LAST" if groups else ""
    sql = f"SELECT {', '.join(selects)}\nFROM {catalog.TABLE}\nWHERE {' AND '.join(where)}"
    if groups:
        sql += f"\nGROUP BY {', '.join(groups)}"
    order = _order(q, order_key)
    if order:
        sql += f"\nORDER BY {order}"
    if q.top_n and groups:
        if q.granularity != "none" and q.group_by:
            sql = _top_n_per_time(sql, q, dims, start, end, metric)
        else:
            sql += f"\nLIMIT {q.top_n}"
    return sql, (start, end), prev


def _filtered(metric: str, cond: str) -> str:
    if "FILTER (WHERE" in metric:
        return metric.replace("FILTER (WHERE ", f"FILTER (WHERE ({cond}) AND ")
    if metric == "count(*)":
        return f"count(*) FILTER (WHERE {cond})"
    parts = metric.split(" - ")
    return " - ".join(f"{p} FILTER (WHERE {cond})" for p in parts)


def _order(q: CostQuery, order_key: str) -> str:
    if q.granularity != "none":
        return ", ".join([q.granularity] + ([order_key] if order_key and q.group_by else []))
    return order_key


def _top_n_per_time(sql: str, q: CostQuery, dims: Dimensions, start: dt.date, end: dt.date, metric: str) -> str:
    """Keep only the top-N groups (by the metric over the whole period) in a time breakdown."""
    exprs = [dims.expr(n) for n in q.group_by]
    keys = ", ".join(f"{e} AS {_q(o)}" for e, o in exprs)
    outs = ", ".join(_q(o) for _, o in exprs)
    top = (
        f"SELECT {keys} FROM {catalog.TABLE} WHERE ChargePeriodStart >= {_ts(start)} AND ChargePeriodStart < "
        f"{_ts(end)} GROUP BY ALL ORDER BY {metric} DESC NULLS LAST LIMIT {q.top_n}"
    )
    return (
        f"WITH top_groups AS ({top}),\nbreakdown AS ({sql})\n"
        f"SELECT breakdown.* FROM breakdown JOIN top_groups USING ({outs}) ORDER BY {q.granularity}"
    )


# ---------------------------------------------------------------- running


def run_cost_query(ctx: ToolContext, q: CostQuery) -> CostResult:
    """Compile ``q``, run it through the guard on the read-only connection, return the table."""
    from tools.sql.run import open_runner

    with open_runner(ctx) as runner:
        dims = Dimensions.load(runner.con)
        first_day, anchor = data_window(runner.con)
        sql, (start, end), prev = compile_query(q, dims, first_day, anchor)
        result = runner.run(sql)
    notes = []
    if result.row_count == 0:
        notes.append(f"no charges match between {start} and {end - dt.timedelta(days=1)}")
    if end > anchor and q.period.kind not in ("all", "range"):
        notes.append(f"data ends {anchor - dt.timedelta(days=1)}")
    return CostResult(
        columns=result.columns,
        rows=result.rows,
        row_count=result.row_count,
        truncated=result.truncated,
        sql=sql,
        metric=q.metric,
        period_start=start,
        period_end=end,
        previous_start=prev[0] if prev else None,
        previous_end=prev[1] if prev else None,
        data_last_day=anchor - dt.timedelta(days=1),
        notes=notes,
    )


@tool(name="cost_query", title="Cost query")
def cost_query(ctx: ToolContext, args: CostQuery) -> CostResult:
    """Preferred tool for spend questions: a metric summed over a period (pinned to the data's last day),
    grouped by dimensions (columns, aliases like service/account/region, 'tag:<key>', 'model'), with filters,
    granularity, top_n and compare (gives change and change_pct). Returns the table and its SQL."""
    return run_cost_query(ctx, args)
