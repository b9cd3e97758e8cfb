"""AWS CUR (2.0 and legacy) -> FOCUS: the documented mapping, as data the ingest compiles to SQL.

Column names are normalised first: legacy CSV headers ``lineItem/UsageStartDate`` become the CUR 2.0 /
Athena form ``line_item_usage_start_date``. The mapping follows the FinOps Foundation's focus_converters
rules for CUR and AWS's own FOCUS export (see README "CUR -> FOCUS mapping"). ``aws_category_mapping.csv``
(product code -> ServiceCategory) is copied from finopsfoundation/focus_converters,
Copyright (c) 2023 FinOps Foundation, MIT licence.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from importlib import resources

USAGE_TYPES = (
    "Usage",
    "DiscountedUsage",
    "SavingsPlanCoveredUsage",
    "SavingsPlanNegation",
    "BundledDiscount",
    "Discount",
    "PrivateRateDiscount",
    "EdpDiscount",
)
PURCHASE_TYPES = ("Fee", "RIFee", "SavingsPlanUpfrontFee", "SavingsPlanRecurringFee")
CREDIT_TYPES = ("Credit", "Refund")


def normalise_name(name: str) -> str:
    """``lineItem/UsageStartDate`` -> ``line_item_usage_start_date``; CUR 2.0 names pass unchanged."""
    name = name.strip().lstrip("\ufeff")
    if "/" not in name:
        return name.lower()
    parts = []
    for part in name.split("/"):
        part = part.replace(":", "_")
        snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", part)  # camelCase -> snake; not SQL
        parts.append(re.sub(r"[^0-9a-zA-Z_]", "_", snake).lower())
    return "_".join(parts)


def is_cur(names: set[str]) -> bool:
    normal = {normalise_name(n) for n in names}
    return "line_item_usage_start_date" in normal and "line_item_unblended_cost" in normal


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# FOCUS column -> (SQL over normalised CUR columns, what it means). ``{c:name}`` marks a CUR column
# (NULL when the file lacks it). Kept as data so the README table is generated from it.
MAPPING: dict[str, tuple[str, str]] = {
    "BillingAccountId": ("{c:bill_payer_account_id}", "payer account"),
    "BillingAccountName": ("{c:bill_payer_account_name}", "payer account name (CUR 2.0)"),
    "SubAccountId": ("{c:line_item_usage_account_id}", "usage account"),
    "SubAccountName": ("{c:line_item_usage_account_name}", "usage account name (CUR 2.0)"),
    "BillingPeriodStart": ("{c:bill_billing_period_start_date}", ""),
    "BillingPeriodEnd": ("{c:bill_billing_period_end_date}", ""),
    "ChargePeriodStart": ("{c:line_item_usage_start_date}", ""),
    "ChargePeriodEnd": ("{c:line_item_usage_end_date}", ""),
    "BillingCurrency": ("coalesce({c:line_item_currency_code}, 'USD')", ""),
    "BilledCost": (
        "coalesce({n:line_item_net_unblended_cost}, {n:line_item_unblended_cost})",
        "net unblended cost if present, else unblended",
    ),
    "EffectiveCost": (
        "CASE {c:line_item_line_item_type}"
        " WHEN 'SavingsPlanCoveredUsage' THEN {n:savings_plan_savings_plan_effective_cost}"
        " WHEN 'DiscountedUsage' THEN {n:reservation_effective_cost}"
        " WHEN 'SavingsPlanRecurringFee' THEN coalesce({n:savings_plan_total_commitment_to_date}, 0)"
        " - coalesce({n:savings_plan_used_commitment}, 0)"
        " WHEN 'RIFee' THEN coalesce({n:reservation_unused_amortized_upfront_fee_for_billing_period}, 0)"
        " + coalesce({n:reservation_unused_recurring_fee}, 0)"
        " WHEN 'SavingsPlanNegation' THEN 0 WHEN 'SavingsPlanUpfrontFee' THEN 0"
        " ELSE {n:line_item_unblended_cost} END",
        "amortised: SP/RI effective cost on covered usage, unused commitment on fees, 0 on negations",
    ),
    "ListCost": (
        "coalesce({n:pricing_public_on_demand_cost}, {n:line_item_unblended_cost})",
        "public on-demand cost (unblended where AWS gives none, e.g. tax)",
    ),
    "ListUnitPrice": ("{n:pricing_public_on_demand_rate}", ""),
    "ContractedCost": ("{n:line_item_unblended_cost}", "unblended cost (negotiated rates, before commitments)"),
    "ContractedUnitPrice": ("{n:line_item_unblended_rate}", ""),
    "ChargeCategory": (
        "CASE WHEN {c:line_item_line_item_type} IN (" + _in(USAGE_TYPES) + ") THEN 'Usage'"
        " WHEN {c:line_item_line_item_type} IN (" + _in(PURCHASE_TYPES) + ") THEN 'Purchase'"
        " WHEN {c:line_item_line_item_type} = 'Tax' THEN 'Tax'"
        " WHEN {c:line_item_line_item_type} IN (" + _in(CREDIT_TYPES) + ") THEN 'Credit'"
        " ELSE 'Adjustment' END",
        "line item type: usage/discount types -> Usage, fees -> Purchase, Tax, Credit/Refund -> Credit",
    ),
    "ChargeDescription": ("{c:line_item_line_item_description}", ""),
    "ChargeFrequency": (
        "CASE WHEN {c:line_item_line_item_type} IN (" + _in(USAGE_TYPES) + ") THEN 'Usage-Based'"
        " WHEN {c:line_item_line_item_type} IN ('RIFee', 'SavingsPlanRecurringFee', 'Tax') THEN 'Recurring'"
        " ELSE 'One-Time' END",
        "",
    ),
    "CommitmentDiscountId": (
        "coalesce({c:savings_plan_savings_plan_a_r_n}, {c:reservation_reservation_a_r_n})",
        "SP or RI ARN",
    ),
    "CommitmentDiscountType": (
        "CASE WHEN {c:savings_plan_savings_plan_a_r_n} IS NOT NULL THEN 'Savings Plan'"
        " WHEN {c:reservation_reservation_a_r_n} IS NOT NULL THEN 'Reserved Instance' END",
        "",
    ),
    "CommitmentDiscountCategory": (
        "CASE WHEN {c:savings_plan_savings_plan_a_r_n} IS NOT NULL THEN 'Spend'"
        " WHEN {c:reservation_reservation_a_r_n} IS NOT NULL THEN 'Usage' END",
        "",
    ),
    "CommitmentDiscountStatus": (
        "CASE WHEN {c:line_item_line_item_type} IN ('SavingsPlanCoveredUsage', 'DiscountedUsage') THEN 'Used' END",
        "",
    ),
    "PricingCategory": (
        "CASE WHEN {c:line_item_line_item_type} = 'Tax' THEN NULL"
        " WHEN {c:line_item_line_item_type} IN ('SavingsPlanCoveredUsage', 'DiscountedUsage') THEN 'Committed'"
        " WHEN {c:pricing_term} = 'Spot' OR {c:line_item_usage_type} LIKE '%SpotUsage%' THEN 'Dynamic'"
        " WHEN {c:pricing_term} IS NULL OR {c:pricing_term} = 'OnDemand' THEN 'Standard' ELSE 'Other' END",
        "",
    ),
    "ConsumedQuantity": (
        "CASE WHEN {c:line_item_line_item_type} IN (" + _in(USAGE_TYPES) + ") THEN {n:line_item_usage_amount} END",
        "usage rows only",
    ),
    "ConsumedUnit": (
        "CASE WHEN {c:line_item_line_item_type} IN (" + _in(USAGE_TYPES) + ") THEN {c:pricing_unit} END",
        "",
    ),
    "PricingQuantity": ("{n:line_item_usage_amount}", ""),
    "PricingUnit": ("{c:pricing_unit}", ""),
    "ServiceName": ("coalesce({c:product_product_name}, {c:product_servicename}, {c:line_item_product_code})", ""),
    "ServiceCategory": ("coalesce(__category, 'Other')", "lookup by product code (focus_converters table)"),
    "RegionId": ("coalesce({c:product_region_code}, {c:product_region})", ""),
    "RegionName": ("{c:product_location}", ""),
    "AvailabilityZone": ("{c:line_item_availability_zone}", ""),
    "ResourceId": ("{c:line_item_resource_id}", "present only with INCLUDE_RESOURCES"),
    "SkuId": ("{c:product_sku}", ""),
    "SkuPriceId": ("coalesce({c:pricing_rate_code}, {c:pricing_rate_id})", ""),
    "SkuMeter": ("{c:line_item_usage_type}", "as AWS's FOCUS 1.2 export"),
    "InvoiceId": ("{c:bill_invoice_id}", ""),
    "InvoiceIssuerName": ("coalesce({c:bill_invoicing_entity}, 'Amazon Web Services, Inc.')", ""),
    "ProviderName": ("'AWS'", ""),
    "PublisherName": (
        "CASE WHEN {c:bill_billing_entity} = 'AWS Marketplace' THEN coalesce({c:product_product_name}, "
        "'AWS Marketplace') ELSE 'Amazon Web Services, Inc.' END",
        "",
    ),
    "ServiceProviderName": ("'AWS'", ""),
    "HostProviderName": ("'AWS'", ""),
    "x_ServiceCode": ("{c:line_item_product_code}", "provider column"),
    "x_UsageType": ("{c:line_item_usage_type}", "provider column"),
    "x_Operation": ("{c:line_item_operation}", "provider column"),
    "x_LineItemType": ("{c:line_item_line_item_type}", "provider column"),
}


@cache
def category_by_product_code() -> dict[str, str]:
    text = resources.files("tools.billing").joinpath("aws_category_mapping.csv").read_text(encoding="utf-8")
    return {row["product_code"]: row["ServiceCategory"] for row in csv.DictReader(text.splitlines())}


def mapping_markdown() -> str:
    """The mapping as a Markdown table (README)."""
    lines = ["| FOCUS column | from CUR | note |", "|---|---|---|"]
    for focus, (expr, note) in MAPPING.items():
        shown = re.sub(r"\{[cn]:([a-z0-9_]+)\}", r"\1", expr).replace("|", "\\|")
        lines.append(f"| {focus} | `{shown}` | {note} |")
    return "\n".join(lines)
