"""`finops usage`: the agent's own LLM calls, tokens and cost, and how much budget is left."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import click

from agent.commands._common import emit_json, json_option, settings


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-12-01", param_hint="--since") from None


@click.command(name="usage")
@click.option("--since", default=None, help="Only calls from this day on (YYYY-MM-DD, UTC). Default: all.")
@click.option(
    "--by",
    type=click.Choice(["feature", "model", "day", "provider", "outcome"]),
    default="feature",
    show_default=True,
    help="How to group the rows.",
)
@json_option
@click.pass_context
def command(ctx: click.Context, since: str | None, by: str, as_json: bool) -> None:
    """Show what the agent itself spent on LLM calls (from the usage ledger) and the budget left.

    Costs are token counts x the price table (genai-prices, overridable in <home>/prices.yaml);
    open reservations count at their reserved amount. The same rows are the SQL table agent_usage.

    \b
    Examples:
      finops usage
      finops usage --by model --since 2026-12-01
      finops usage --by day --json
    """
    doc = usage_report(ctx, _since(since), by)
    if as_json:
        emit_json(doc)
    else:
        _render(doc, by)


def usage_report(ctx: click.Context, since: datetime | None, by: str) -> dict[str, Any]:
    """The ``--json`` document: total, grouped rows and the budget (limits and spend today / this month)."""
    from tools import ledger

    cfg = settings(ctx)
    path = cfg.tool_context().ledger_path
    [(_, total)] = ledger.totals(path, since=since)
    rows = [
        {
            by: key,
            "calls": t.calls,
            "input_tokens": t.input_tokens,
            "output_tokens": t.output_tokens,
            "cost_usd": float(t.cost_usd),
        }
        for key, t in ledger.totals(path, since=since, by=by)
    ]
    spend = ledger.spend(path)
    return {
        "total": {
            "calls": total.calls,
            "input_tokens": total.input_tokens,
            "output_tokens": total.output_tokens,
            "cost_usd": float(total.cost_usd),
        },
        "rows": rows,
        "budget": {
            "daily_limit_usd": cfg.daily_budget_usd,
            "daily_spent_usd": float(spend.daily_usd),
            "daily_left_usd": max(cfg.daily_budget_usd - float(spend.daily_usd), 0.0),
            "monthly_limit_usd": cfg.monthly_budget_usd,
            "monthly_spent_usd": float(spend.monthly_usd),
            "monthly_left_usd": max(cfg.monthly_budget_usd - float(spend.monthly_usd), 0.0),
        },
    }


def _render(doc: dict[str, Any], by: str) -> None:
    from agent.render import money, print_table

    total, budget = doc["total"], doc["budget"]
    if doc["rows"]:
        columns = [by, "calls", "input_tokens", "output_tokens", "cost_usd"]
        print_table(columns, [[r[c] for c in columns] for r in doc["rows"]])
    click.echo(
        f"{total['calls']} calls, {total['input_tokens']:,} input + {total['output_tokens']:,} output tokens,"
        f" {money(total['cost_usd'], places=4)}"
    )
    click.echo(
        f"budget left: today {money(budget['daily_left_usd'], places=4)} of {money(budget['daily_limit_usd'])},"
        f" this month {money(budget['monthly_left_usd'], places=4)} of {money(budget['monthly_limit_usd'])}"
    )
