"""Daily EffectiveCost series out of DuckDB, pivoted to numpy.

The finest grain (a *cell*) is loaded with one grouped query; every dimension's series is a roll-up
of cells (the same numbers as one ``GROUP BY day, <dimension>`` query per dimension, one table scan).

A *dimension* is a column (or tag) whose values name series: ``ResourceId``, ``UsageType``
(``x_UsageType`` when the provider column exists, else ``SkuMeter``), tags ``team`` / ``ai_feature``,
``ServiceName``, ``RegionId``, ``SubAccountId``. The finest grain, a *cell*, is one resource x usage
type with its parent attributes; drill-down explains a dimension's delta with cells.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tools.billing import catalog, store

if TYPE_CHECKING:
    import duckdb

# Most specific first: an incident is reported at the first dimension that explains it.
DIMENSION_ORDER: tuple[str, ...] = (
    "ResourceId",
    "UsageType",
    "tag:ai_feature",
    "tag:team",
    "ServiceName",
    "RegionId",
    "SubAccountId",
)
ATTRS: tuple[str, ...] = (
    "ServiceName",
    "SubAccountId",
    "RegionId",
    "UsageType",
    "tag:team",
    "tag:ai_feature",
)
NONE_KEY = "(none)"
# Credits and taxes are not engineering spend: a new credit line is not an incident to explain.
SPEND_ONLY = "coalesce(ChargeCategory, '') NOT IN ('Credit', 'Tax')"


@dataclass
class Panel:
    """Series of one dimension: ``values[i, t]`` is the cost of ``keys[i]`` on ``days[t]``."""

    dimension: str
    keys: list[str]
    values: np.ndarray


@dataclass
class Cells:
    """Resource x usage-type series with their parent attributes (for drill-down)."""

    values: np.ndarray
    resource_id: list[str]
    resource_name: list[str]
    attrs: dict[str, list[str]]
    index: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def members(self, dimension: str, key: str) -> np.ndarray:
        """Indices of the cells under ``dimension == key``."""
        if dimension not in self.index:
            values = self.resource_id if dimension == "ResourceId" else self.attrs.get(dimension, [])
            groups: dict[str, list[int]] = {}
            for i, value in enumerate(values):
                groups.setdefault(value, []).append(i)
            self.index[dimension] = {k: np.asarray(v, dtype=np.int64) for k, v in groups.items()}
        return self.index[dimension].get(key, np.zeros(0, dtype=np.int64))


@dataclass
class Data:
    """Everything detection needs, loaded once."""

    days: list[dt.date]
    panels: dict[str, Panel]
    cells: Cells


def dimension_sql(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Dimension name -> SQL expression, for the dimensions this table can offer."""
    cols = store.table_columns(con)
    tags = store.tag_columns(con)
    exprs: dict[str, str] = {"ResourceId": "ResourceId"}
    if "x_UsageType" in cols:
        exprs["UsageType"] = 'coalesce("x_UsageType", SkuMeter)'
    else:
        exprs["UsageType"] = "SkuMeter"
    for key in ("ai_feature", "team"):
        # an unmaterialised tag is read from the map only where it can be (map lookups on every row are slow)
        where = "ServiceCategory = 'AI and Machine Learning'" if key == "ai_feature" else "true"
        exprs[f"tag:{key}"] = f'"{tags[key]}"' if key in tags else f"CASE WHEN {where} THEN Tags['{key}'] END"
    exprs.update(ServiceName="ServiceName", RegionId="RegionId", SubAccountId="SubAccountId")
    return {d: exprs[d] for d in DIMENSION_ORDER if d in exprs}


def day_range(con: duckdb.DuckDBPyConnection) -> tuple[dt.date, dt.date] | None:
    row = con.execute(
        f"SELECT min(ChargePeriodStart)::DATE, max(ChargePeriodStart)::DATE FROM {catalog.TABLE}"
    ).fetchone()
    if row is None or row[0] is None:
        return None
    return row[0], row[1]


def _pivot(day_idx: np.ndarray, key_idx: np.ndarray, cost: np.ndarray, n: int, t: int) -> np.ndarray:
    out = np.zeros((n, t), dtype=np.float64)
    np.add.at(out, (key_idx, day_idx), cost)
    return out


def _day_index(days: np.ndarray, first: dt.date) -> np.ndarray:
    base = np.datetime64(first, "D")
    return (days.astype("datetime64[D]") - base).astype(np.int64)


def load_cells(con: duckdb.DuckDBPyConnection, exprs: dict[str, str], first: dt.date, t: int) -> Cells:
    """Daily cost per cell (resource x usage type x parent attributes) with one grouped scan.

    The cell key is DuckDB's 64-bit ``hash`` of the key columns, so the big result is numeric
    (key, day, cost, a row id); each cell's attributes are then read from one of its rows by rowid.
    """
    present = [a for a in ATTRS if a in exprs]
    raw = ["ResourceId"] + [exprs[a] for a in present]
    cols = [f"coalesce(CAST({c} AS VARCHAR), '{NONE_KEY}')" for c in raw]
    res = con.execute(  # hashing the raw values (NULL hashes to a constant) halves the scan time
        f"""SELECT hash({", ".join(raw)}) AS h, ChargePeriodStart::DATE AS d,
                   sum(EffectiveCost::DOUBLE) AS c, min(rowid) AS rid
            FROM {catalog.TABLE} WHERE EffectiveCost IS NOT NULL AND {SPEND_ONLY} GROUP BY ALL"""
    ).fetchnumpy()
    hashes, rows = np.unique(np.asarray(res["h"], dtype=np.uint64), return_inverse=True)
    pick = np.full(len(hashes), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(pick, rows, np.asarray(res["rid"], dtype=np.int64))
    meta = con.execute(
        f"""SELECT rowid, {", ".join(cols)}, coalesce(ResourceName, '') FROM {catalog.TABLE}
            WHERE rowid IN (SELECT unnest(?::BIGINT[]))""",
        [pick.tolist()],
    ).fetchall()
    by_row = {int(m[0]): m[1:] for m in meta}
    ordered = [by_row[int(r)] for r in pick]
    values = _pivot(_day_index(res["d"], first), rows, np.asarray(res["c"], dtype=np.float64), len(hashes), t)
    attrs = {a: [str(m[1 + j]) for m in ordered] for j, a in enumerate(present)}
    return Cells(values, [str(m[0]) for m in ordered], [str(m[-1]) for m in ordered], attrs)


def rollup(cells: Cells, dimension: str) -> Panel:
    """A dimension's daily series as sums of its cells (cells without a value are left out)."""
    labels = np.asarray(cells.resource_id if dimension == "ResourceId" else cells.attrs[dimension], dtype=object)
    keep = np.flatnonzero(labels != NONE_KEY)
    keys, inverse = np.unique(labels[keep].astype(str), return_inverse=True)
    values = np.zeros((len(keys), cells.values.shape[1]))
    np.add.at(values, inverse, cells.values[keep])
    return Panel(dimension, [str(k) for k in keys], values)


def load(con: duckdb.DuckDBPyConnection, dimensions: list[str] | None = None) -> Data | None:
    """Load every dimension's panel and the drill-down cells; None when the table is empty."""
    span = day_range(con)
    if span is None:
        return None
    first, last = span
    t = (last - first).days + 1
    exprs = dimension_sql(con)
    wanted = [d for d in exprs if dimensions is None or d in dimensions]
    cells = load_cells(con, exprs, first, t)
    panels = {d: rollup(cells, d) for d in wanted if d == "ResourceId" or d in cells.attrs}
    days = [first + dt.timedelta(days=i) for i in range(t)]
    return Data(days, panels, cells)
