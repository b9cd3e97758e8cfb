"""The FOCUS 1.0–1.3 column catalog, kept as data (``focus_columns.csv``), and its DuckDB mapping."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

TABLE = "focus"
"""The canonical table of FOCUS rows, whatever the source format."""

VERSIONS = ("1.0", "1.1", "1.2", "1.3")
MONEY = "DECIMAL(38,12)"
DUCKDB_TYPES = {"String": "VARCHAR", "Decimal": MONEY, "DateTime": "TIMESTAMP", "JSON": "VARCHAR"}
TAGS_TYPE = "MAP(VARCHAR, VARCHAR)"
ID_COLUMNS = frozenset(
    {
        "BillingAccountId",
        "SubAccountId",
        "ResourceId",
        "InvoiceId",
        "SkuId",
        "SkuPriceId",
        "CommitmentDiscountId",
        "CapacityReservationId",
        "AllocatedResourceId",
        "AllocatedMethodId",
    }
)
TAG_COLUMN_PREFIX = "x_tag_"
"""Frequent tag keys are materialised as columns named ``x_tag_<key>`` (see store.materialise_tags)."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # FOCUS data type: String, Decimal, DateTime, JSON
    since: str
    level: str  # M mandatory, C conditional, R recommended
    description: str
    allowed: tuple[str, ...]

    @property
    def duckdb_type(self) -> str:
        if self.name == "Tags":
            return TAGS_TYPE
        return DUCKDB_TYPES[self.type]

    def in_version(self, version: str) -> bool:
        return _version_key(self.since) <= _version_key(version)


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split("."))


@cache
def columns() -> tuple[Column, ...]:
    """All FOCUS columns through 1.3, in catalog order."""
    text = resources.files("tools.billing").joinpath("focus_columns.csv").read_text(encoding="utf-8")
    out = []
    for row in csv.DictReader(text.splitlines()):
        allowed = tuple(a for a in row["allowed"].split("|") if a)
        since = "1.0" if row["since"] == "0.5" else row["since"]
        out.append(Column(row["name"], row["type"], since, row["level"], row["description"], allowed))
    return tuple(out)


@cache
def by_name() -> dict[str, Column]:
    return {c.name: c for c in columns()}


@cache
def by_lower_name() -> dict[str, Column]:
    return {c.name.lower(): c for c in columns()}


def columns_for_version(version: str) -> tuple[Column, ...]:
    return tuple(c for c in columns() if c.in_version(version))


def detect_version(names: set[str]) -> str:
    """The newest FOCUS version whose added columns appear in ``names`` (1.0 if none do)."""
    for version in reversed(VERSIONS[1:]):
        added = {c.name for c in columns() if c.since == version}
        if names & added:
            return str(version)
    return "1.0"


def is_money(name: str) -> bool:
    col = by_name().get(name)
    return col is not None and col.type == "Decimal" and ("Cost" in name or "Price" in name)
