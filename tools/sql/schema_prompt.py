"""The compact, token-budgeted schema the LLM sees (``finops schema``, the ``schema`` tool).

Every token here is paid on every model call, so the prompt is grouped by kind rather than written
as DDL: columns that hold data get their name and a short meaning from the FOCUS catalog, low-
cardinality text columns get a few real values, columns that are empty in this data are named in one
line, and the rules that make answers right (which cost metric, the ``Tags['team']`` idiom, the
materialised ``x_tag_<key>`` columns, the daily-spend idiom) come last. :func:`full_ddl` is the
baseline it is measured against: ``CREATE TABLE`` with every column, type and full description.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tools.billing import catalog, store
from tools.context import ToolContext
from tools.ledger import USAGE_COLUMNS

if TYPE_CHECKING:
    import duckdb

MAX_SAMPLE_DISTINCT = 40
SAMPLES = 3
SAMPLE_CHARS = 32
SAMPLE_COLUMNS_MAX = 14
GLOSS_WORDS = 7

USAGE_DESCRIPTIONS = {
    "call_id": "id of one LLM call",
    "ts": "when the call started (UTC)",
    "feature": "agent feature that made the call (ask, tags, anomalies ...)",
    "session_id": "conversation/session id",
    "provider": "LLM provider (anthropic, openai, offline)",
    "model": "model name",
    "input_tokens": "prompt tokens",
    "output_tokens": "completion tokens",
    "cache_write_tokens": "prompt-cache write tokens",
    "cache_read_tokens": "prompt-cache read tokens",
    "cost_usd": "cost of the call in USD",
    "reserved_usd": "worst-case cost reserved before the call",
    "latency_ms": "call latency in ms",
    "outcome": "ok / error / cut / pending",
    "estimated": "true when tokens were estimated, not reported",
    "request_id": "provider request id",
    "price_version": "price table version used",
}
USAGE_TABLE = "agent_usage"

_TOKEN_PIECES = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+|[^\sA-Za-z\d]")


def count_tokens(text: str) -> int:
    """Offline token estimate close to BPE tokenizers: words ~1 token per 6 letters, digits per 3,
    punctuation 1 each; camelCase splits into words (``BilledCost`` -> 2)."""
    total = 0
    for piece in _TOKEN_PIECES.findall(text):
        if piece.isdigit():
            total += math.ceil(len(piece) / 3)
        elif piece.isalpha():
            total += math.ceil(len(piece) / 6)
        else:
            total += 1
    return total


@dataclass(frozen=True)
class SchemaColumn:
    name: str
    type: str
    description: str
    has_data: bool = True
    samples: tuple[str, ...] = ()


@dataclass(frozen=True)
class SchemaPrompt:
    """The prompt text plus what it was built from and what it costs."""

    table: str
    columns: list[SchemaColumn]
    prompt: str
    tokens: int
    ddl_tokens: int
    first_day: str | None = None
    last_day: str | None = None
    tag_keys: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "columns": [
                {"name": c.name, "type": c.type, "description": c.description, "has_data": c.has_data}
                for c in self.columns
            ],
            "prompt": self.prompt,
            "tokens": self.tokens,
            "ddl_tokens": self.ddl_tokens,
            "ratio": round(self.tokens / self.ddl_tokens, 3) if self.ddl_tokens else None,
        }


def describe(name: str) -> str:
    """The catalog's one-line meaning of a column (``x_`` columns get a generic one)."""
    col = catalog.by_name().get(name)
    if col is not None:
        return col.description
    if name.startswith(catalog.TAG_COLUMN_PREFIX):
        return f"tag {name[len(catalog.TAG_COLUMN_PREFIX):]!r} as a column (same as Tags['...'])"
    if name == "x_IngestId":
        return "ingest batch that loaded the row (provenance)"
    return "provider-specific column"


def gloss(name: str) -> str:
    """A short meaning: the description up to its first ';' or '(' and at most a few words."""
    text = describe(name).split(";")[0].split(" (")[0].strip()
    words = text.split()
    return " ".join(words[:GLOSS_WORDS]) + ("…" if len(words) > GLOSS_WORDS else "")


def build(con: duckdb.DuckDBPyConnection) -> SchemaPrompt:
    """Profile the loaded ``focus`` table and render the compact prompt and the DDL baseline."""
    types = store.table_columns(con)
    filled = _filled(con, types)
    tags = store.tag_columns(con)
    samples = _samples(con, types, filled, tags)
    columns = [
        SchemaColumn(n, t, describe(n), filled.get(n, False), samples.get(n, ())) for n, t in types.items()
    ]
    first, last = _period(con, filled)
    keys = _tag_keys(con) if filled.get("Tags") else []
    prompt = render(columns, tags, keys, first, last)
    ddl = full_ddl(types)
    return SchemaPrompt(
        catalog.TABLE, columns, prompt, count_tokens(prompt), count_tokens(ddl), first, last, keys
    )


_CACHE: dict[tuple[str, int, int], SchemaPrompt] = {}


def schema_prompt(ctx: ToolContext) -> SchemaPrompt:
    """Build the prompt for the data in ``ctx`` (read-only, hardened connection); cached per file state."""
    from tools.sql.run import connect

    try:
        stat = ctx.db_path.stat()
        key: tuple[str, int, int] | None = (str(ctx.db_path), stat.st_mtime_ns, stat.st_size)
    except OSError:
        key = None
    if key is not None and key in _CACHE:
        return _CACHE[key]
    with connect(ctx) as con:
        built = build(con)
    if key is not None:
        _CACHE.clear()
        _CACHE[key] = built
    return built


def _filled(con: duckdb.DuckDBPyConnection, types: dict[str, str]) -> dict[str, bool]:
    names = list(types)
    if not names:
        return {}
    counts = ", ".join(f'count("{n}") > 0' for n in names)
    row = con.execute(f"SELECT {counts} FROM {catalog.TABLE}").fetchone()
    return dict(zip(names, [bool(v) for v in (row or [False] * len(names))], strict=True))


def _sample_candidates(types: dict[str, str], filled: dict[str, bool], tags: dict[str, str]) -> list[str]:
    """Text columns worth showing values of: categories, not ids or free text; tag columns last."""
    tag_cols = [c for c in tags.values() if filled.get(c)]

    def worth(name: str) -> bool:
        if name in _NAMED_SAMPLES:
            return True
        return name not in catalog.ID_COLUMNS and not name.endswith(("Id", "Name", "Description"))

    plain = [
        n for n, t in types.items() if t == "VARCHAR" and filled.get(n) and n not in tag_cols and worth(n)
    ]
    plain.sort(key=lambda n: n not in _NAMED_SAMPLES)  # stable: named ones first, then table order
    return plain[:SAMPLE_COLUMNS_MAX] + tag_cols


_NAMED_SAMPLES = frozenset({"ServiceName", "ProviderName", "SubAccountName", "RegionId", "ChargeCategory"})


def _samples(
    con: duckdb.DuckDBPyConnection, types: dict[str, str], filled: dict[str, bool], tags: dict[str, str]
) -> dict[str, tuple[str, ...]]:
    """Up to a few frequent values of each low-cardinality text column."""
    candidates = _sample_candidates(types, filled, tags)
    if not candidates:
        return {}
    counts = con.execute(
        "SELECT " + ", ".join(f'approx_count_distinct("{n}")' for n in candidates) + f" FROM {catalog.TABLE}"
    ).fetchone() or ()
    out: dict[str, tuple[str, ...]] = {}
    for name, distinct in zip(candidates, counts, strict=True):
        if not distinct or (distinct > MAX_SAMPLE_DISTINCT and name not in _NAMED_SAMPLES):
            continue
        rows = con.execute(
            f'SELECT "{name}" FROM {catalog.TABLE} WHERE "{name}" IS NOT NULL GROUP BY 1 '
            f"ORDER BY count(*) DESC, 1 LIMIT {SAMPLES + 1}"
        ).fetchall()
        values = [str(r[0])[:SAMPLE_CHARS] for r in rows]
        out[name] = tuple(values[:SAMPLES]) + (("…",) if len(values) > SAMPLES else ())
    return out


def _period(con: duckdb.DuckDBPyConnection, filled: dict[str, bool]) -> tuple[str | None, str | None]:
    if not filled.get("ChargePeriodStart"):
        return None, None
    row = con.execute(
        f"SELECT min(ChargePeriodStart)::DATE, max(ChargePeriodStart)::DATE FROM {catalog.TABLE}"
    ).fetchone()
    if not row or row[0] is None:
        return None, None
    return str(row[0]), str(row[1])


def _tag_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        f"SELECT k FROM (SELECT unnest(map_keys(Tags)) AS k FROM {catalog.TABLE}) GROUP BY k "
        f"ORDER BY count(*) DESC, k LIMIT {store.MAX_TAG_COLUMNS}"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _kind(col: SchemaColumn) -> str:
    if col.name == "Tags":
        return "tags"
    if col.name.startswith(catalog.TAG_COLUMN_PREFIX):
        return "tagcol"
    if col.type.startswith("DECIMAL"):
        return "money" if catalog.is_money(col.name) else "number"
    if col.type.startswith("TIMESTAMP"):
        return "time"
    if col.samples:
        return "category"
    if col.name.endswith(("Id", "Name")) or col.name.startswith("x_"):
        return "label"
    return "text"


_GROUPS = (
    ("money", "Money (DECIMAL, BillingCurrency)", True),
    ("number", "Quantities (DECIMAL)", True),
    ("time", "Time (TIMESTAMP UTC; *Start inclusive, *End exclusive; ChargePeriodStart for series)", False),
    ("category", "Categories (VARCHAR, frequent values)", False),
    ("label", "Ids and names (VARCHAR)", False),
    ("text", "Other text (VARCHAR)", True),
)


_GLOSSED = frozenset(
    {
        "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ConsumedQuantity", "PricingQuantity",
        "CommitmentDiscountQuantity", "ChargeDescription", "SkuPriceDetails", "SkuMeter", "ServiceSubcategory",
    }
)
"""Columns whose meaning is not obvious from the name; the rest are listed by name only."""


def _entry(col: SchemaColumn, with_gloss: bool) -> str:
    text = col.name
    if with_gloss and col.name in _GLOSSED:
        text += f" ({gloss(col.name)})"
    if col.samples:
        text += ": " + "|".join(col.samples)
    return text


def render(
    columns: list[SchemaColumn], tags: dict[str, str], keys: list[str], first: str | None, last: str | None
) -> str:
    """The compact prompt text."""
    span = f" Data covers {first} to {last}." if first else ""
    lines = [f"DuckDB table {catalog.TABLE}: FOCUS billing rows, one per charge and period.{span}"]
    with_data = [c for c in columns if c.has_data]
    for kind, title, with_gloss in _GROUPS:
        group = [c for c in with_data if _kind(c) == kind]
        if group:
            sep = "; " if with_gloss or kind == "category" else ", "
            lines.append(f"{title}: " + sep.join(_entry(c, with_gloss) for c in group))
    if any(c.name == "Tags" for c in with_data):
        lines.append(_tags_line(tags, keys, columns))
    empty = [c.name for c in columns if not c.has_data]
    if empty:
        lines.append("All NULL here: " + ", ".join(empty))
    lines.append(
        "Rules: EffectiveCost (amortized) for trends and allocation; BilledCost for invoice totals. "
        "Daily: date_trunc('day', ChargePeriodStart) AS day, sum(EffectiveCost) ... GROUP BY 1."
    )
    usage = ", ".join(USAGE_COLUMNS)
    lines.append(f"Table {USAGE_TABLE}: this agent's own LLM calls ({usage}); cost_usd in USD, ts UTC.")
    return "\n".join(lines)


def _tags_line(tags: dict[str, str], keys: list[str], columns: list[SchemaColumn]) -> str:
    line = "Tags MAP(VARCHAR,VARCHAR): a tag is Tags['team'], NULL when untagged"
    if keys:
        line += "; keys: " + ", ".join(keys)
    if tags:
        samples = {c.name: c.samples for c in columns}
        parts = [col + (": " + "|".join(samples[col]) if samples.get(col) else "") for col in tags.values()]
        line += ". Same values as faster columns: " + "; ".join(parts)
    return line


def full_ddl(types: dict[str, str]) -> str:
    """The baseline: CREATE TABLE with every column, its type and full description (plus allowed values)."""
    lines = []
    for name, kind in types.items():
        col = catalog.by_name().get(name)
        allowed = f" Allowed values: {', '.join(col.allowed)}." if col and col.allowed else ""
        lines.append(f'  "{name}" {kind}, -- {describe(name)}.{allowed}')
    usage = [f"  {n} {t}, -- {USAGE_DESCRIPTIONS.get(n, '')}" for n, t in USAGE_COLUMNS.items()]
    return (
        f"CREATE TABLE {catalog.TABLE} (\n" + "\n".join(lines) + "\n);\n"
        f"CREATE TABLE {USAGE_TABLE} (\n" + "\n".join(usage) + "\n);"
    )
