"""Charges that are not metered usage: Savings Plan fee and unused commitment, support, SaaS, tax, credits."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from tools.billing.demo.catalogue import (
    ACCOUNTS,
    PROVIDERS,
    SAVINGS_PLAN_ARN,
    SAVINGS_PLAN_NAME,
    SERVICES,
    Account,
)
from tools.billing.demo.usage import Usage

if TYPE_CHECKING:
    from tools.billing.demo.focus import Month

TAX_RATE = 0.03
CREDIT_MONTHS = (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1))
CREDIT_USD = 1500.0


def _row(acct: Account, service: str, start: datetime, end: datetime, month: Month, **values: Any) -> dict[str, Any]:
    from tools.billing.demo.focus import invoice_id

    prov = PROVIDERS[acct.provider]
    svc = SERVICES[service]
    row: dict[str, Any] = {
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
        "BillingCurrency": "USD",
        "PricingCurrency": "USD",
        "BillingPeriodStart": datetime.combine(month.start, time()),
        "BillingPeriodEnd": datetime.combine(month.end, time()),
        "ChargePeriodStart": start,
        "ChargePeriodEnd": end,
        "InvoiceId": invoice_id(acct.provider, month.start),
        "x_ServiceCode": svc.code if acct.provider == "aws" else None,
    }
    row.update(values)
    for money in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
        row[money] = round(float(row.get(money, 0.0)), 10)
    row.setdefault("PricingCurrencyEffectiveCost", row["EffectiveCost"])
    return row


def _fee(
    acct: Account, service: str, month: Month, days: list[date], amount: float, description: str, **values: Any
) -> dict[str, Any]:
    start = datetime.combine(days[month.first], time())
    end = datetime.combine(days[month.last - 1], time()) + timedelta(days=1)
    base = {
        "ChargeCategory": "Purchase",
        "ChargeFrequency": "Recurring",
        "PricingCategory": "Standard",
        "ChargeDescription": description,
        "BilledCost": amount,
        "EffectiveCost": amount,
        "ListCost": amount,
        "ContractedCost": amount,
    }
    base.update(values)
    return _row(acct, service, start, end, month, **base)


def _month_billed(usage: Usage, month: Month, provider: str) -> dict[str, float]:
    out: dict[str, float] = {}
    billed = usage.billed[:, month.first : month.last].sum(axis=1)
    for (res, _), amount in zip(usage.lines, billed, strict=True):
        if res.account.provider == provider:
            out[res.account.key] = out.get(res.account.key, 0.0) + float(amount)
    return out


def _support_fee(aws_usage: float) -> float:
    """AWS Business Support: 10% of the first $10k, 7% of the next $70k, 5% above (min $100)."""
    tiers = ((10_000.0, 0.10), (70_000.0, 0.07), (float("inf"), 0.05))
    fee, left = 0.0, aws_usage
    for size, rate in tiers:
        part = min(left, size)
        fee += part * rate
        left -= part
    return max(fee, 100.0)


def savings_plan_rows(usage: Usage, days: list[date], month: Month) -> list[dict[str, Any]]:
    if usage.sp_commit_daily <= 0:
        return []
    mgmt = ACCOUNTS["management"]
    n = month.last - month.first
    fee = usage.sp_commit_daily * n
    cd = {
        "CommitmentDiscountId": SAVINGS_PLAN_ARN,
        "CommitmentDiscountName": SAVINGS_PLAN_NAME,
        "CommitmentDiscountType": "Savings Plan",
        "CommitmentDiscountCategory": "Spend",
        "CommitmentDiscountUnit": "USD",
        "ResourceId": SAVINGS_PLAN_ARN,
        "ResourceName": SAVINGS_PLAN_NAME,
        "ResourceType": "Savings Plan",
        "SkuId": "ComputeSP:1yrNoUpfront",
        "x_UsageType": "ComputeSP:1yrNoUpfront",
    }
    rows = [
        _fee(
            mgmt,
            "savingsplan",
            month,
            days,
            fee,
            f"1 year No Upfront Compute Savings Plan with ${usage.sp_commit_daily / 24:.2f}/hour commitment",
            EffectiveCost=0.0,
            PricingCategory="Standard",
            CommitmentDiscountQuantity=fee,
            PricingQuantity=fee,
            PricingUnit="USD",
            ListUnitPrice=1.0,
            ContractedUnitPrice=1.0,
            **cd,
        )
    ]
    for d in range(month.first, month.last):
        unused = usage.sp_commit_daily - float(usage.sp_used[d])
        if unused <= 0.005:
            continue
        start = datetime.combine(days[d], time())
        rows.append(
            _row(
                mgmt,
                "savingsplan",
                start,
                start + timedelta(days=1),
                month,
                ChargeCategory="Usage",
                ChargeFrequency="Usage-Based",
                PricingCategory="Committed",
                ChargeDescription="Unused Savings Plan commitment",
                CommitmentDiscountStatus="Unused",
                CommitmentDiscountQuantity=round(unused, 10),
                BilledCost=0.0,
                EffectiveCost=unused,
                ListCost=unused,
                ContractedCost=unused,
                **cd,
            )
        )
    return rows


def monthly_rows(usage: Usage, days: list[date], month: Month) -> list[dict[str, Any]]:
    """Day-1 purchases, the month's tax, credits and the Savings Plan's unused commitment."""
    rows = savings_plan_rows(usage, days, month)
    aws = _month_billed(usage, month, "aws")
    share = (month.last - month.first) / max((month.end - month.start).days, 1)
    mgmt = ACCOUNTS["management"]
    support = _support_fee(sum(aws.values()))
    rows.append(
        _fee(
            mgmt,
            "support",
            month,
            days,
            support,
            "AWS Support (Business) monthly fee",
            ResourceId=None,
            x_UsageType="Dollar",
            PricingQuantity=1.0,
            PricingUnit="Month",
        )
    )
    seats = 40 + 2 * ((month.start.year - 2025) * 12 + month.start.month - 11)
    rows.append(
        _fee(
            ACCOUNTS["ant-platform"],
            "claude-team",
            month,
            days,
            30.0 * seats * share,
            f"Claude Team plan, {seats} seats",
            PricingQuantity=seats * share,
            PricingUnit="Seats",
            ListUnitPrice=30.0,
            ContractedUnitPrice=30.0,
            SkuPriceDetails=json.dumps({"Plan": "Team", "Seats": seats}),
        )
    )
    rows.append(
        _fee(
            ACCOUNTS["az-analytics"],
            "az-datadog",
            month,
            days,
            2400.0 * share,
            "Datadog Pro (Azure Marketplace) monthly subscription",
            PublisherName="Datadog",
            PricingQuantity=1.0 * share,
            PricingUnit="1/Month",
            ListUnitPrice=2400.0,
            ContractedUnitPrice=2400.0,
        )
    )
    start = datetime.combine(days[month.first], time())
    end = datetime.combine(days[month.last - 1], time()) + timedelta(days=1)
    for key, amount in sorted(aws.items()):
        base = amount + (support if key == "management" else 0.0)
        tax = round(base * TAX_RATE, 2)
        rows.append(
            _row(
                ACCOUNTS[key],
                "tax",
                start,
                end,
                month,
                ChargeCategory="Tax",
                ChargeFrequency="Recurring",
                ChargeDescription="Sales tax",
                BilledCost=tax,
                EffectiveCost=tax,
                ListCost=tax,
                ContractedCost=tax,
                x_UsageType="Tax",
            )
        )
    if month.start in CREDIT_MONTHS:
        rows.append(
            _row(
                ACCOUNTS["ml"],
                "bedrock",
                start,
                end,
                month,
                ChargeCategory="Credit",
                ChargeFrequency="One-Time",
                ChargeDescription="AWS Promotional Credit - Generative AI Accelerator",
                BilledCost=-CREDIT_USD,
                EffectiveCost=-CREDIT_USD,
                ListCost=0.0,
                ContractedCost=0.0,
                x_UsageType="Credit",
            )
        )
    return rows
