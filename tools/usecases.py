"""The FinOps Foundation's FOCUS use cases as named analyses.

Our own SQL, written from each use case's intent (the public reference queries have bugs: half-open
periods, NULL ChargeClass, savings rate over unit prices). Every analysis runs through the same guard
and read-only connection as any query, parameterised by period, provider and sub-account.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from tools.context import ToolContext
from tools.costs import Period, data_window, resolve_period
from tools.errors import ToolError
from tools.registry import tool

NOT_CORRECTION = "ChargeClass IS DISTINCT FROM 'Correction'"


@dataclass(frozen=True)
class UseCase:
    id: str
    title: str
    question: str  # how a practitioner asks it
    sql: str  # {where} is replaced by the period/provider/sub-account filter
    metric_note: str = "EffectiveCost (amortized)"


USE_CASES: tuple[UseCase, ...] = (
    UseCase(
        "tag-coverage",
        "Analyze tag coverage",
        "What share of our cost is tagged?",
        "SELECT ProviderName, sum(EffectiveCost) FILTER (WHERE Tags IS NOT NULL) AS tagged_cost, "
        "sum(EffectiveCost) FILTER (WHERE Tags IS NULL) AS untagged_cost, round(100.0 * sum(EffectiveCost) "
        "FILTER (WHERE Tags IS NOT NULL) / nullif(sum(EffectiveCost), 0), 1) AS tagged_pct "
        "FROM focus WHERE {where} GROUP BY 1 ORDER BY untagged_cost DESC",
    ),
    UseCase(
        "costs-by-service",
        "Analyze costs by service name",
        "What do we spend per service?",
        "SELECT ServiceName, sum(EffectiveCost) AS effective_cost, sum(BilledCost) AS billed_cost "
        "FROM focus WHERE {where} GROUP BY 1 ORDER BY 2 DESC",
    ),
    UseCase(
        "periods-by-category",
        "Report spending across billing periods for a provider by service category",
        "How does each service category's spend move across billing periods?",
        "SELECT CAST(BillingPeriodStart AS DATE) AS billing_period, ProviderName, ServiceCategory, "
        "sum(BilledCost) AS billed_cost FROM focus WHERE {where} GROUP BY 1, 2, 3 ORDER BY 1, 4 DESC",
        "BilledCost (invoice view)",
    ),
    UseCase(
        "service-costs-by-region",
        "Analyze service costs by region",
        "What does each service cost per region?",
        "SELECT RegionId, ServiceName, sum(EffectiveCost) AS effective_cost FROM focus WHERE {where} "
        "GROUP BY 1, 2 ORDER BY 3 DESC",
    ),
    UseCase(
        "service-costs-by-subaccount",
        "Report service costs by provider's subaccount",
        "What does each sub-account spend per service?",
        "SELECT ProviderName, SubAccountId, SubAccountName, ServiceName, sum(EffectiveCost) AS effective_cost "
        "FROM focus WHERE {where} GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC",
    ),
    UseCase(
        "service-costs-mom",
        "Analyze service costs month over month",
        "How do service costs move month to month?",
        "SELECT CAST(date_trunc('month', ChargePeriodStart) AS DATE) AS month, ServiceName, "
        "sum(EffectiveCost) AS effective_cost FROM focus WHERE {where} GROUP BY 1, 2 ORDER BY 1, 3 DESC",
    ),
    UseCase(
        "application-cost-mom",
        "Report application cost month over month",
        "What does each application cost per month?",
        "SELECT CAST(date_trunc('month', ChargePeriodStart) AS DATE) AS month, "
        "coalesce(Tags['application'], Tags['app']) AS application, sum(EffectiveCost) AS effective_cost "
        "FROM focus WHERE {where} GROUP BY 1, 2 ORDER BY 1, 3 DESC",
    ),
    UseCase(
        "resource-components",
        "Analyze costs of components of a resource",
        "What are the cost components (SKUs, charges) of our top resources?",
        "SELECT ResourceId, ResourceName, SkuId, ChargeDescription, sum(EffectiveCost) AS effective_cost "
        "FROM focus WHERE {where} AND ResourceId IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC",
    ),
    UseCase(
        "costs-by-service-category",
        "Report costs by service category",
        "What do we spend per service category?",
        "SELECT ServiceCategory, sum(EffectiveCost) AS effective_cost, sum(BilledCost) AS billed_cost "
        "FROM focus WHERE {where} GROUP BY 1 ORDER BY 2 DESC",
    ),
    UseCase(
        "corrections-by-subaccount",
        "Report corrections by subaccount for a previously invoiced billing period",
        "Which sub-accounts had corrections?",
        "SELECT CAST(BillingPeriodStart AS DATE) AS billing_period, SubAccountId, SubAccountName, "
        "sum(BilledCost) AS corrected_billed_cost FROM focus WHERE {where} AND ChargeClass = 'Correction' "
        "GROUP BY 1, 2, 3 ORDER BY 4",
        "BilledCost of correction rows",
    ),
    UseCase(
        "recurring-commitment-charges",
        "Report recurring charges for commitment-based discounts over a period",
        "What do our commitments cost us every period?",
        "SELECT CommitmentDiscountId, CommitmentDiscountType, ChargeFrequency, sum(BilledCost) AS billed_cost "
        "FROM focus WHERE {where} AND ChargeCategory = 'Purchase' AND ChargeFrequency = 'Recurring' "
        "AND CommitmentDiscountId IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 4 DESC",
        "BilledCost",
    ),
    UseCase(
        "effective-cost-of-compute",
        "Report effective cost of compute",
        "What does compute really cost us?",
        "SELECT ServiceName, PricingCategory, sum(EffectiveCost) AS effective_cost, sum(ListCost) AS list_cost "
        "FROM focus WHERE {where} AND ServiceCategory = 'Compute' GROUP BY 1, 2 ORDER BY 3 DESC",
    ),
    UseCase(
        "commitment-purchases",
        "Report commitment discount purchases",
        "Which commitments did we buy?",
        "SELECT CommitmentDiscountId, CommitmentDiscountType, CommitmentDiscountCategory, ChargeFrequency, "
        "sum(BilledCost) AS billed_cost FROM focus WHERE {where} AND ChargeCategory = 'Purchase' AND "
        "CommitmentDiscountId IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC",
        "BilledCost",
    ),
    UseCase(
        "effective-savings-rate-by-service",
        "Determine Effective Savings Rate by Service",
        "What is our effective savings rate per service?",
        "SELECT ServiceName, sum(ListCost) AS list_cost, sum(EffectiveCost) AS effective_cost, "
        "round(100.0 * (sum(ListCost) - sum(EffectiveCost)) / nullif(sum(ListCost), 0), 2) AS esr_pct "
        "FROM focus WHERE {where} AND ChargeCategory IN ('Usage', 'Purchase') GROUP BY 1 ORDER BY 2 DESC",
        "savings vs ListCost",
    ),
    UseCase(
        "effective-savings-rate",
        "Determine Effective Savings Rate",
        "What is our effective savings rate?",
        "SELECT sum(ListCost) AS list_cost, sum(EffectiveCost) AS effective_cost, "
        "round(100.0 * (sum(ListCost) - sum(EffectiveCost)) / nullif(sum(ListCost), 0), 2) AS esr_pct "
        "FROM focus WHERE {where} AND ChargeCategory IN ('Usage', 'Purchase')",
        "savings vs ListCost",
    ),
    UseCase(
        "resource-costs-by-sku",
        "Analyze resource costs by SKU",
        "What do our resources cost per SKU?",
        "SELECT SkuId, SkuPriceId, ServiceName, sum(ConsumedQuantity) AS consumed_quantity, "
        "sum(EffectiveCost) AS effective_cost FROM focus WHERE {where} AND SkuId IS NOT NULL "
        "GROUP BY 1, 2, 3 ORDER BY 5 DESC",
    ),
    UseCase(
        "marketplace-vendors",
        "Analyze marketplace vendors costs",
        "What do we pay marketplace vendors?",
        "SELECT PublisherName, InvoiceIssuerName, ServiceName, sum(BilledCost) AS billed_cost FROM focus "
        "WHERE {where} AND PublisherName IS DISTINCT FROM InvoiceIssuerName AND PublisherName IS NOT NULL "
        "AND PublisherName NOT ILIKE ('%' || ProviderName || '%') GROUP BY 1, 2, 3 ORDER BY 4 DESC",
        "BilledCost",
    ),
    UseCase(
        "compute-per-service-for-subaccount",
        "Analyze cost per compute service for a subaccount",
        "What does each compute service cost per sub-account?",
        "SELECT SubAccountName, ServiceName, sum(EffectiveCost) AS effective_cost FROM focus WHERE {where} "
        "AND ServiceCategory = 'Compute' GROUP BY 1, 2 ORDER BY 3 DESC",
    ),
    UseCase(
        "costs-by-az-for-subaccount",
        "Analyze costs by availability zone for a subaccount",
        "What do we spend per availability zone?",
        "SELECT SubAccountName, AvailabilityZone, sum(EffectiveCost) AS effective_cost FROM focus WHERE {where} "
        "AND AvailabilityZone IS NOT NULL GROUP BY 1, 2 ORDER BY 3 DESC",
    ),
    UseCase(
        "subaccounts-by-region",
        "Report subaccounts by region",
        "Which sub-accounts run in which regions?",
        "SELECT RegionId, SubAccountId, SubAccountName, sum(EffectiveCost) AS effective_cost FROM focus "
        "WHERE {where} AND RegionId IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 4 DESC",
    ),
    UseCase(
        "historical-usage-and-rates",
        "Get historical usage and rates to enable cost forecasting",
        "What were daily usage and unit rates per SKU?",
        "SELECT CAST(date_trunc('day', ChargePeriodStart) AS DATE) AS day, SkuId, ConsumedUnit, "
        "sum(ConsumedQuantity) AS consumed_quantity, sum(EffectiveCost) AS effective_cost, "
        "sum(EffectiveCost) / nullif(sum(ConsumedQuantity), 0) AS effective_unit_rate FROM focus "
        "WHERE {where} AND ChargeCategory = 'Usage' AND SkuId IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 5 DESC",
    ),
    UseCase(
        "resource-usage-mom",
        "Compare resource usage month over month",
        "How does each resource's usage change month to month?",
        "SELECT ResourceId, ConsumedUnit, CAST(date_trunc('month', ChargePeriodStart) AS DATE) AS month, "
        "sum(ConsumedQuantity) AS consumed_quantity, sum(EffectiveCost) AS effective_cost FROM focus "
        "WHERE {where} AND ResourceId IS NOT NULL AND ConsumedQuantity IS NOT NULL GROUP BY 1, 2, 3 "
        "ORDER BY 1, 3",
    ),
    UseCase(
        "service-costs-by-subaccount-total",
        "Analyze service costs by subaccount",
        "Which sub-accounts drive each service's cost?",
        "SELECT ServiceName, SubAccountName, sum(EffectiveCost) AS effective_cost FROM focus WHERE {where} "
        "GROUP BY 1, 2 ORDER BY 3 DESC",
    ),
    UseCase(
        "unused-commitments",
        "Identify unused commitments",
        "Which commitments are we not using?",
        "SELECT CommitmentDiscountId, CommitmentDiscountType, sum(EffectiveCost) AS unused_cost FROM focus "
        "WHERE {where} AND CommitmentDiscountStatus = 'Unused' GROUP BY 1, 2 ORDER BY 3 DESC",
    ),
    UseCase(
        "multi-currency-by-application",
        "Allocate multi-currency charges per application",
        "What does each application cost in each billing currency?",
        "SELECT BillingCurrency, coalesce(Tags['application'], Tags['app']) AS application, "
        "sum(BilledCost) AS billed_cost, sum(EffectiveCost) AS effective_cost FROM focus WHERE {where} "
        "GROUP BY 1, 2 ORDER BY 1, 3 DESC",
    ),
    UseCase(
        "billed-by-subaccount",
        "Compare billed cost per subaccount",
        "What was billed per sub-account?",
        "SELECT SubAccountId, SubAccountName, sum(BilledCost) AS billed_cost FROM focus WHERE {where} "
        f"AND {NOT_CORRECTION} GROUP BY 1, 2 ORDER BY 3 DESC",
        "BilledCost, corrections excluded",
    ),
)


class UseCaseInput(BaseModel):
    """Run one named FOCUS use case."""

    id: str = Field(description="use case id, e.g. tag-coverage, costs-by-service, effective-savings-rate")
    period: Period = Field(default_factory=Period)
    provider: str | None = None
    subaccount: str | None = Field(default=None, description="SubAccountId or SubAccountName")


class UseCaseResult(BaseModel):
    id: str
    title: str
    metric_note: str
    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    sql: str
    period_start: dt.date | None = None
    period_end: dt.date | None = None


def find(use_case_id: str) -> UseCase:
    for uc in USE_CASES:
        if uc.id == use_case_id:
            return uc
    import difflib

    close = difflib.get_close_matches(use_case_id, [u.id for u in USE_CASES], n=3)
    raise ToolError(f"no use case {use_case_id!r}; did you mean {', '.join(close) or 'one of finops usecases list'}?")


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def render_sql(uc: UseCase, start: dt.date, end: dt.date, provider: str | None, subaccount: str | None) -> str:
    where = [f"ChargePeriodStart >= TIMESTAMP '{start} 00:00:00'", f"ChargePeriodStart < TIMESTAMP '{end} 00:00:00'"]
    if provider:
        where.append(f"ProviderName = {_lit(provider)}")
    if subaccount:
        where.append(f"(SubAccountId = {_lit(subaccount)} OR SubAccountName = {_lit(subaccount)})")
    return uc.sql.replace("{where}", " AND ".join(where))


def run_use_case(ctx: ToolContext, args: UseCaseInput) -> UseCaseResult:
    from tools.sql.run import open_runner

    uc = find(args.id)
    with open_runner(ctx) as runner:
        first_day, anchor = data_window(runner.con)
        start, end = resolve_period(args.period, anchor, first_day)
        sql = render_sql(uc, start, end, args.provider, args.subaccount)
        result = runner.run(sql)
    return UseCaseResult(
        id=uc.id,
        title=uc.title,
        metric_note=uc.metric_note,
        columns=result.columns,
        rows=result.rows,
        row_count=result.row_count,
        truncated=result.truncated,
        sql=sql,
        period_start=start,
        period_end=end,
    )


@tool(name="focus_use_case", title="FOCUS use case")
def focus_use_case(ctx: ToolContext, args: UseCaseInput) -> UseCaseResult:
    """Run a named FinOps Foundation FOCUS use case (tag-coverage, costs-by-service, service-costs-by-region,
    service-costs-mom, effective-savings-rate(-by-service), commitment-purchases, unused-commitments,
    marketplace-vendors, corrections-by-subaccount, resource-costs-by-sku, ...) for a period, provider and
    sub-account. Returns the table, its SQL and which cost metric it used."""
    return run_use_case(ctx, args)
