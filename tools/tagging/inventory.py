"""The resource inventory tag inference works on: one row per billed resource, cost-ranked.

Built from the canonical ``focus`` table (or any relation with its columns): name, type, service,
account, region, cost over the last ``window_days`` of data, and the resource's latest non-empty
tags. Also decides the required tag keys (configured, else learned: keys present on most spend).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

WINDOW_DAYS = 30
LEARNED_KEY_MIN_SHARE = 0.5


@dataclass
class Resource:
    """One billed resource with what the bill says about it."""

    resource_id: str
    name: str
    rtype: str
    service: str
    account_id: str
    account_name: str
    region: str
    provider: str
    monthly_cost: float
    tags: dict[str, str] = field(default_factory=dict)

    def missing(self, keys: list[str]) -> list[str]:
        return [k for k in keys if not self.tags.get(k)]


INVENTORY_SQL = """
WITH src AS (SELECT * FROM {rel} WHERE ResourceId IS NOT NULL),
bounds AS (SELECT max(ChargePeriodStart) AS hi FROM src)
SELECT ResourceId,
       coalesce(any_value(ResourceName), '') AS name,
       coalesce(any_value(ResourceType), '') AS rtype,
       coalesce(any_value(ServiceName), '') AS service,
       coalesce(any_value(SubAccountId), any_value(BillingAccountId), '') AS account_id,
       coalesce(any_value(SubAccountName), '') AS account_name,
       coalesce(any_value(RegionId), '') AS region,
       coalesce(any_value(ProviderName), '') AS provider,
       coalesce(sum(EffectiveCost) FILTER (WHERE ChargePeriodStart > hi - INTERVAL {days} DAY), 0)::DOUBLE,
       arg_max(Tags, ChargePeriodStart) FILTER (WHERE cardinality(Tags) > 0) AS tags
FROM src, bounds
GROUP BY ResourceId
ORDER BY 9 DESC, ResourceId
"""


def load_inventory(
    con: duckdb.DuckDBPyConnection, relation: str = "focus", window_days: int = WINDOW_DAYS
) -> list[Resource]:
    """Every resource in ``relation`` (FOCUS columns, ``Tags`` a MAP), most expensive first."""
    rows = con.execute(INVENTORY_SQL.format(rel=relation, days=int(window_days))).fetchall()
    out: list[Resource] = []
    for rid, name, rtype, service, acct, acct_name, region, provider, cost, tags in rows:
        clean = {str(k).strip(): str(v).strip() for k, v in (tags or {}).items() if k and v is not None}
        out.append(
            Resource(str(rid), str(name), str(rtype), str(service), str(acct), str(acct_name), str(region),
                     str(provider), float(cost), {k: v for k, v in clean.items() if k and v})
        )  # fmt: skip
    return out


def cost_weights(resources: list[Resource]) -> list[float]:
    """Per-resource weights for shares: the cost, or 1 each when the window has no positive cost."""
    costs = [max(r.monthly_cost, 0.0) for r in resources]
    return costs if sum(costs) > 0 else [1.0] * len(resources)


def learned_required_keys(resources: list[Resource], min_share: float = LEARNED_KEY_MIN_SHARE) -> list[str]:
    """Keys present on at least ``min_share`` of spend (falling back to the share of tagged spend)."""
    weights = cost_weights(resources)
    total = sum(weights)
    per_key: dict[str, float] = defaultdict(float)
    tagged = 0.0
    for res, w in zip(resources, weights, strict=True):
        tagged += w if res.tags else 0.0
        for key in res.tags:
            per_key[key] += w
    if total <= 0:
        return []
    keys = sorted(k for k, v in per_key.items() if v / total >= min_share)
    if not keys and tagged > 0:
        keys = sorted(k for k, v in per_key.items() if v / tagged >= min_share)
    return keys


def required_keys(resources: list[Resource], configured: list[str] | None) -> tuple[list[str], str]:
    """The required keys and where they came from ("config" or "learned")."""
    if configured:
        return list(dict.fromkeys(configured)), "config"
    return learned_required_keys(resources), "learned"


def tagged_cost_share(resources: list[Resource], keys: list[str], extra: dict[str, set[str]] | None = None) -> float:
    """Share of cost on resources that carry every key (``extra``: resource id -> keys to be added)."""
    weights = cost_weights(resources)
    total = sum(weights)
    if total <= 0 or not keys:
        return 0.0
    covered = 0.0
    for res, w in zip(resources, weights, strict=True):
        have = {k for k in keys if res.tags.get(k)} | (extra or {}).get(res.resource_id, set())
        if all(k in have for k in keys):
            covered += w
    return covered / total
