"""The agent's own spend as a tool: calls, tokens and cost from the usage ledger, and the budget left.

FinOps for AI applied to the agent itself; "what did the agent cost this week?" can also be asked in SQL
over the ``agent_usage`` table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from tools import ledger
from tools.context import ToolContext
from tools.registry import tool


class UsageInput(BaseModel):
    """The agent's LLM usage over the last N days, optionally grouped."""

    days: int = Field(default=7, ge=1, le=366)
    by: Literal["feature", "model", "day", "provider"] | None = None


class UsageRow(BaseModel):
    key: str | None
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float


class UsageOutput(BaseModel):
    since: datetime
    total: UsageRow
    rows: list[UsageRow]
    daily_limit_usd: float | None
    daily_spent_usd: float
    monthly_limit_usd: float | None
    monthly_spent_usd: float


def _row(key: str | None, t: ledger.Totals) -> UsageRow:
    return UsageRow(
        key=key, calls=t.calls, input_tokens=t.input_tokens, output_tokens=t.output_tokens, cost_usd=float(t.cost_usd)
    )


def _limit(value: object) -> float | None:
    return float(value) if isinstance(value, int | float | Decimal) else None


@tool(name="usage", title="Agent usage and budget")
def usage(ctx: ToolContext, args: UsageInput) -> UsageOutput:
    """What the agent itself has spent on LLM calls (calls, tokens, $) over the last `days`, optionally by
    feature/model/day/provider, and today's and this month's spend against the configured budget."""
    since = datetime.now(UTC) - timedelta(days=args.days)
    total = ledger.totals(ctx.ledger_path, since=since)[0][1]
    rows = ledger.totals(ctx.ledger_path, since=since, by=args.by) if args.by else []
    spent = ledger.spend(ctx.ledger_path) if ctx.ledger_path.exists() else ledger.Spend(Decimal(0), Decimal(0))
    return UsageOutput(
        since=since,
        total=_row(None, total),
        rows=[_row(k, t) for k, t in rows],
        daily_limit_usd=_limit(ctx.extra.get("daily_budget_usd")),
        daily_spent_usd=float(spent.daily_usd),
        monthly_limit_usd=_limit(ctx.extra.get("monthly_budget_usd")),
        monthly_spent_usd=float(spent.monthly_usd),
    )
