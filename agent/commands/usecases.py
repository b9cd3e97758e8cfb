"""`finops usecases`: the FinOps Foundation's FOCUS use cases as named analyses."""

from __future__ import annotations

import click

from agent.commands._common import emit_json, ensure_data, json_option, note, tool_context

PERIODS = [
    "all",
    "this_month",
    "last_month",
    "month_to_date",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
    "year_to_date",
]


@click.group(name="usecases", invoke_without_command=True)
@click.pass_context
def command(ctx: click.Context) -> None:
    """List or run the FOCUS use cases (tag coverage, effective savings rate, unused commitments, ...)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_cmd)


@command.command(name="list")
@json_option
def list_cmd(as_json: bool = False) -> None:
    """List the named analyses."""
    from tools.usecases import USE_CASES

    rows = [{"id": u.id, "title": u.title, "question": u.question, "metric": u.metric_note} for u in USE_CASES]
    if as_json:
        emit_json({"use_cases": rows})
        return
    from agent.render import print_table

    print_table(
        ["id", "title", "metric"],
        [[r["id"], r["title"], r["metric"]] for r in rows],
        title="FOCUS use cases (finops usecases run ID)",
    )


@command.command(name="run")
@click.argument("use_case_id")
@click.option("--period", type=click.Choice(PERIODS), default="all", show_default=True)
@click.option("--last-days", type=int, default=None, help="Instead of --period: the last N days of data.")
@click.option("--provider", default=None, help="Only this ProviderName (e.g. AWS, Microsoft).")
@click.option("--subaccount", default=None, help="Only this SubAccountId or SubAccountName.")
@json_option
@click.pass_context
def run_cmd(
    ctx: click.Context,
    use_case_id: str,
    period: str,
    last_days: int | None,
    provider: str | None,
    subaccount: str | None,
    as_json: bool,
) -> None:
    """Run one use case through the SQL guard."""
    from tools.costs import Period
    from tools.usecases import UseCaseInput, run_use_case

    tctx = tool_context(ctx)
    ensure_data(tctx, quiet=as_json)
    p = Period(kind="last_n_days", n=last_days) if last_days else Period(kind=period)  # type: ignore[arg-type]
    result = run_use_case(tctx, UseCaseInput(id=use_case_id, period=p, provider=provider, subaccount=subaccount))
    if as_json:
        emit_json(result)
        return
    from agent.render import console, print_sql, print_table

    end = result.period_end
    console().print(f"[bold]{result.title}[/bold] · {result.period_start} to {end} (exclusive) · {result.metric_note}")
    print_table(result.columns, result.rows)
    print_sql(result.sql)
    if result.truncated:
        note("result truncated; narrow the period or use --json")
