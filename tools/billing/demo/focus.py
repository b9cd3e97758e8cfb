"""FOCUS 1.2 rows of the demo org, one Parquet file per billing month, written month by month."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tools.billing import catalog
from tools.billing.demo import arrow as ar
from tools.billing.demo import charges
from tools.billing.demo.catalogue import (
    PROVIDERS,
    REGION_NAMES,
    SAVINGS_PLAN_ARN,
    SAVINGS_PLAN_NAME,
    SERVICES,
    sku_id,
)
from tools.billing.demo.model import Meter, Resource
from tools.billing.demo.rhythm import DIURNAL_WEIGHTS
from tools.billing.demo.usage import Usage

X_COLUMNS = ("x_ServiceCode", "x_UsageType", "x_Operation")
HOURLY_DRIVERS = frozenset({"traffic", "ai", "ai_work"})
US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000


def focus_schema() -> pa.Schema:
    """FOCUS 1.2 columns (spec names, catalog order) + AWS x_ columns; money as float64 like AWS exports."""
    fields = []
    for col in catalog.columns_for_version("1.2"):
        kind = {"Decimal": pa.float64(), "DateTime": pa.timestamp("us")}.get(col.type, pa.string())
        fields.append(pa.field(col.name, kind))
    fields += [pa.field(name, pa.string()) for name in X_COLUMNS]
    return pa.schema(fields)


SCHEMA = focus_schema()


def invoice_id(provider: str, month: date) -> str:
    ym = f"{month:%Y%m}"
    return {"aws": f"2100{ym}", "azure": f"G0{ym}42", "anthropic": f"INV-ANT-{ym}", "openai": f"INV-OAI-{ym}"}[provider]


def tags_json(tags: dict[str, str]) -> str | None:
    return json.dumps(tags, separators=(",", ":")) if tags else None


def line_attributes(res: Resource, m: Meter) -> dict[str, Any]:
    """Everything about a row that does not change with time."""
    acct = res.account
    prov = PROVIDERS[acct.provider]
    svc = SERVICES[m.service]
    aws = acct.provider == "aws"
    sku = sku_id(m.service, m.usage_type)
    category = "Committed" if m.covered else "Dynamic" if m.spot else "Standard"
    out: dict[str, Any] = {
        "BillingAccountId": acct.billing_id,
        "BillingAccountName": acct.billing_name,
        "BillingAccountType": acct.billing_type,
        "SubAccountId": acct.id,
        "SubAccountName": acct.name,
        "SubAccountType": acct.sub_type,
        "ProviderName": prov.name,
        "PublisherName": prov.publisher,
        "InvoiceIssuerName": prov.invoice_issuer,
        "ServiceName": svc.name,
        "ServiceCategory": svc.category,
        "ServiceSubcategory": svc.subcategory,
        "RegionId": res.region,
        "RegionName": REGION_NAMES.get(res.region or "global"),
        "AvailabilityZone": res.az,
        "ResourceId": res.rid,
        "ResourceName": res.name,
        "ResourceType": res.rtype,
        "SkuId": sku if aws else m.usage_type,
        "SkuPriceId": f"{sku}.JRTCKXETXF.6YS6EN2CT7" if aws else f"{m.usage_type}-ondemand",
        "SkuMeter": m.sku_meter,
        "SkuPriceDetails": json.dumps(m.details, separators=(",", ":"), sort_keys=True) if m.details else None,
        "ChargeDescription": m.description,
        "ChargeCategory": "Usage",
        "ChargeFrequency": "Usage-Based",
        "ChargeClass": None,
        "ConsumedUnit": m.consumed_unit,
        "PricingUnit": m.pricing_unit,
        "PricingCurrency": "USD",
        "BillingCurrency": "USD",
        "PricingCategory": category,
        "Tags": tags_json(res.tags),
        "ListUnitPrice": m.price,
        "ContractedUnitPrice": m.price,
        "PricingCurrencyListUnitPrice": m.price,
        "PricingCurrencyContractedUnitPrice": m.price,
        "x_ServiceCode": svc.code if aws else None,
        "x_UsageType": m.usage_type if aws else None,
        "x_Operation": m.operation if aws else None,
    }
    if m.covered:
        out.update(
            {
                "CommitmentDiscountId": SAVINGS_PLAN_ARN,
                "CommitmentDiscountName": SAVINGS_PLAN_NAME,
                "CommitmentDiscountType": "Savings Plan",
                "CommitmentDiscountCategory": "Spend",
                "CommitmentDiscountStatus": "Used",
                "CommitmentDiscountUnit": "USD",
            }
        )
    return out


@dataclass(frozen=True)
class Month:
    start: date  # billing period start (first of month)
    end: date  # exclusive billing period end
    first: int  # first day index inside the demo period
    last: int  # exclusive


def months(days: list[date]) -> Iterator[Month]:
    i = 0
    while i < len(days):
        d0 = days[i]
        start = d0.replace(day=1)
        end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        j = i
        while j < len(days) and days[j] < end:
            j += 1
        yield Month(start, end, i, j)
        i = j


def _us(day: date) -> int:
    return int((datetime.combine(day, time()) - datetime(1970, 1, 1)).total_seconds()) * 1_000_000


class FocusWriter:
    """Turns the usage matrices into one Arrow table per month."""

    def __init__(self, usage: Usage, days: list[date], hourly: bool) -> None:
        self.usage = usage
        self.days = days
        self.hourly = hourly
        attrs = [line_attributes(r, m) for r, m in usage.lines]
        names = sorted({name for a in attrs for name in a} & set(SCHEMA.names))
        self.static: dict[str, np.ndarray] = {}  # numeric per-line values (NaN = null)
        self.codes: dict[str, tuple[np.ndarray, pa.Array]] = {}  # string columns: int32 codes + dictionary
        for name in names:
            values = [a.get(name) for a in attrs]
            if pa.types.is_string(SCHEMA.field(name).type):
                self.codes[name] = ar.encode(values)
            else:
                self.static[name] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        self.block = np.array([m.block for _, m in usage.lines])
        self.covered = np.array([m.covered for _, m in usage.lines])
        self.diurnal = np.array([m.driver in HOURLY_DRIVERS for _, m in usage.lines])
        self.providers = [r.account.provider for r, _ in usage.lines]
        self.day_us = np.array([_us(d) for d in days], dtype=np.int64)

    def usage_table(self, month: Month) -> pa.Table:
        u = self.usage
        sl = slice(month.first, month.last)
        qty = u.qty[:, sl]
        day_idx, line_idx = np.nonzero(qty.T > 0)  # day-major: rows in time order
        day_idx = day_idx + month.first
        share = np.ones(len(line_idx))
        start = self.day_us[day_idx]
        step = np.full(len(line_idx), US_PER_DAY, dtype=np.int64)
        if self.hourly:
            hours = np.arange(24)
            weights = np.where(self.diurnal[line_idx][:, None], DIURNAL_WEIGHTS[None, :], 1.0 / 24.0)
            line_idx = np.repeat(line_idx, 24)
            day_idx = np.repeat(day_idx, 24)
            share = weights.reshape(-1)
            start = np.repeat(start, 24) + np.tile(hours, len(start)) * US_PER_HOUR
            step = np.full(len(line_idx), US_PER_HOUR, dtype=np.int64)
        q = u.qty[line_idx, day_idx] * share
        list_cost = u.list_cost[line_idx, day_idx] * share
        eff = u.effective[line_idx, day_idx] * share
        billed = u.billed[line_idx, day_idx] * share
        cols: dict[str, pa.Array] = {name: ar.f64(values[line_idx]) for name, values in self.static.items()}
        cols["ChargePeriodStart"] = ar.timestamps(start)
        cols["ChargePeriodEnd"] = ar.timestamps(start + step)
        cols["BillingPeriodStart"] = ar.timestamps(np.full(len(q), _us(month.start), np.int64))
        cols["BillingPeriodEnd"] = ar.timestamps(np.full(len(q), _us(month.end), np.int64))
        for name, (codes, dictionary) in self.codes.items():
            cols[name] = ar.dict_column(codes[line_idx], dictionary)
        invoice_codes, invoices = ar.encode([invoice_id(p, month.start) for p in self.providers])
        cols["InvoiceId"] = ar.dict_column(invoice_codes[line_idx], invoices)
        cols["ConsumedQuantity"] = ar.f64(np.round(q, 6))
        cols["PricingQuantity"] = ar.f64(np.round(q / self.block[line_idx], 9))
        cols["ListCost"] = ar.f64(np.round(list_cost, 10))
        cols["ContractedCost"] = cols["ListCost"]
        cols["EffectiveCost"] = ar.f64(np.round(eff, 10))
        cols["PricingCurrencyEffectiveCost"] = cols["EffectiveCost"]
        cols["BilledCost"] = ar.f64(np.round(billed, 10))
        cols["CommitmentDiscountQuantity"] = ar.f64(np.where(self.covered[line_idx], np.round(eff, 10), np.nan))
        return _assemble(cols, len(q))

    def month_table(self, month: Month) -> pa.Table:
        usage = self.usage_table(month)
        extra = charges.monthly_rows(self.usage, self.days, month)
        if not extra:
            return usage
        return pa.concat_tables([usage, ar.table_from_rows(extra, SCHEMA).cast(usage.schema)])


def _assemble(cols: dict[str, pa.Array], n: int) -> pa.Table:
    arrays = [cols[f.name] if f.name in cols else pa.nulls(n, f.type) for f in SCHEMA]
    return pa.Table.from_arrays(arrays, names=SCHEMA.names)


@dataclass
class FocusStats:
    rows: int = 0
    monthly: dict[str, float] = field(default_factory=dict)  # YYYY-MM -> EffectiveCost
    providers: list[str] = field(default_factory=list)


def write_focus(writer: FocusWriter, out_dir: Path, csv_dir: Path | None = None) -> FocusStats:
    """Write focus/focus-YYYY-MM.parquet (and optionally CSV), one billing month at a time."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    out_dir.mkdir(parents=True, exist_ok=True)
    stats = FocusStats()
    providers: set[str] = set()
    for month in months(writer.days):
        table = writer.month_table(month)
        name = f"focus-{month.start:%Y-%m}"
        # store_schema=False: readers see plain strings (the dictionary is only the on-disk encoding)
        pq.write_table(table, out_dir / f"{name}.parquet", compression="zstd", store_schema=False)
        if csv_dir is not None:
            write_csv(table, csv_dir / f"{name}.csv")
        stats.rows += table.num_rows
        stats.monthly[f"{month.start:%Y-%m}"] = round(float(pc.sum(table.column("EffectiveCost")).as_py() or 0), 2)
        providers.update(str(p) for p in pc.unique(table.column("ProviderName")).to_pylist() if p)
    stats.providers = sorted(providers)
    return stats


def write_csv(table: pa.Table, path: Path) -> None:
    """FOCUS CSV: ISO 8601 UTC timestamps with 'Z', empty cells for nulls."""
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    path.parent.mkdir(parents=True, exist_ok=True)
    for i, col in enumerate(table.schema):
        if pa.types.is_timestamp(col.type):
            table = table.set_column(
                i, col.name, pc.strftime(table.column(i).cast(pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%SZ")
            )
    with open(path, "wb") as fh:
        fh.write((",".join(table.schema.names) + "\n").encode())
        pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
