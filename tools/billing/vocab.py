"""The data's own vocabulary: services, providers, accounts, regions, tag keys and values, models.

The offline planner recognises these words in a question; nothing here is a hard-coded list of
services. Cached on disk per data version so that planning a question costs milliseconds.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tools.billing import catalog, store
from tools.context import ToolContext

if TYPE_CHECKING:
    import duckdb

MAX_VALUES = 400
VALUE_COLUMNS = (
    "ServiceName",
    "ServiceCategory",
    "ServiceSubcategory",
    "ProviderName",
    "SubAccountName",
    "SubAccountId",
    "BillingAccountName",
    "RegionId",
    "RegionName",
    "ChargeCategory",
    "PricingCategory",
    "ResourceType",
    "SkuMeter",
    "CommitmentDiscountType",
    "AvailabilityZone",
    "PublisherName",
)


@dataclass
class Vocabulary:
    version: str
    values: dict[str, list[str]] = field(default_factory=dict)  # column -> distinct values (by spend)
    service_codes: dict[str, str] = field(default_factory=dict)  # x_ServiceCode -> ServiceName
    tag_values: dict[str, list[str]] = field(default_factory=dict)  # tag key -> values (by spend)
    tag_columns: dict[str, str] = field(default_factory=dict)
    models: list[str] = field(default_factory=list)
    resource_names: dict[str, str] = field(default_factory=dict)  # ResourceName -> ResourceId (top by spend)
    columns: list[str] = field(default_factory=list)
    first_day: str | None = None
    last_day: str | None = None


def load_vocabulary(ctx: ToolContext) -> Vocabulary:
    """The vocabulary of the loaded data, from the on-disk cache when the data has not changed."""
    with store.reader(ctx.db_path) as con:
        version = store.data_version(con)
        cache = ctx.home / "cache" / "vocabulary.json"
        cached = _read_cache(cache, version)
        if cached is not None:
            return cached
        vocab = build_vocabulary(con, version)
    _write_cache(cache, vocab)
    return vocab


def _read_cache(path: Path, version: str) -> Vocabulary | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != version:
        return None
    try:
        return Vocabulary(**data)
    except TypeError:
        return None


def _write_cache(path: Path, vocab: Vocabulary) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(vocab)), encoding="utf-8")
    tmp.replace(path)


def build_vocabulary(con: duckdb.DuckDBPyConnection, version: str) -> Vocabulary:
    columns = store.table_columns(con)
    vocab = Vocabulary(version=version, columns=list(columns), tag_columns=store.tag_columns(con))
    t = catalog.TABLE
    for col in VALUE_COLUMNS:
        if col in columns:
            rows = con.execute(
                f'SELECT "{col}" FROM {t} WHERE "{col}" IS NOT NULL GROUP BY 1 '
                f"ORDER BY sum(coalesce(EffectiveCost, BilledCost, 0)) DESC LIMIT {MAX_VALUES}"
            ).fetchall()
            vocab.values[col] = [str(r[0]) for r in rows]
    if "x_ServiceCode" in columns:
        rows = con.execute(
            f"SELECT x_ServiceCode, any_value(ServiceName) FROM {t} WHERE x_ServiceCode IS NOT NULL "
            "AND ServiceName IS NOT NULL GROUP BY 1"
        ).fetchall()
        vocab.service_codes = {str(a): str(b) for a, b in rows}
    rows = con.execute(
        f"""SELECT k, v FROM (
              SELECT e.key AS k, e.value AS v, sum(coalesce(EffectiveCost, BilledCost, 0)) AS c,
                     row_number() OVER (PARTITION BY e.key
                                        ORDER BY sum(coalesce(EffectiveCost, BilledCost, 0)) DESC) AS rn
              FROM (SELECT unnest(map_entries(Tags)) AS e, EffectiveCost, BilledCost FROM {t} WHERE Tags IS NOT NULL)
              GROUP BY 1, 2) WHERE rn <= 100 AND v IS NOT NULL ORDER BY k, c DESC"""
    ).fetchall()
    for k, v in rows:
        vocab.tag_values.setdefault(str(k), []).append(str(v))
    if "SkuPriceDetails" in columns:
        rows = con.execute(
            f"SELECT json_extract_string(SkuPriceDetails, '$.ModelId') AS m FROM {t} "
            "WHERE SkuPriceDetails IS NOT NULL AND json_valid(SkuPriceDetails) AND m IS NOT NULL GROUP BY 1 LIMIT 200"
        ).fetchall()
        vocab.models = [str(r[0]) for r in rows]
    rows = con.execute(
        f"SELECT ResourceName, any_value(ResourceId) FROM {t} WHERE ResourceName IS NOT NULL "
        f"GROUP BY 1 ORDER BY sum(coalesce(EffectiveCost, BilledCost, 0)) DESC LIMIT 2000"
    ).fetchall()
    vocab.resource_names = {str(a): str(b) for a, b in rows}
    row = con.execute(f"SELECT min(ChargePeriodStart), max(ChargePeriodStart) FROM {t}").fetchone()
    if row and row[0] is not None:
        vocab.first_day, vocab.last_day = row[0].date().isoformat(), row[1].date().isoformat()
    return vocab
