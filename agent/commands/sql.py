"""`finops sql "SELECT ..."`: run read-only SQL through the guard, or print it for another engine."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click

from agent.commands._common import emit_json, ensure_data, json_option, note, tool_context

DIALECTS = ("athena", "bigquery", "snowflake", "spark", "trino")


@click.command(name="sql")
@click.argument("query")
@click.option(
    "--dialect",
    type=click.Choice(DIALECTS),
    default=None,
    help="Print the guarded query transpiled for this engine (does not run it).",
)
@json_option
@click.pass_context
def command(ctx: click.Context, query: str, dialect: str | None, as_json: bool) -> None:
    """Run one read-only SELECT over the `focus` table (and `agent_usage`).

    The query passes the SQL guard first (one SELECT, known tables and columns, allowed functions)
    and runs on a read-only, locked-down connection with row, size and time limits. Use "-" to read
    the query from stdin. Rejected SQL exits with code 2 and one line saying why.

    \b
    Examples:
      finops sql "SELECT ServiceName, sum(EffectiveCost) AS cost FROM focus GROUP BY 1 ORDER BY 2 DESC"
      finops sql "SELECT Tags['team'] AS team, sum(EffectiveCost) FROM focus GROUP BY 1" --json
      finops sql "SELECT date_trunc('month', ChargePeriodStart) m, sum(BilledCost) FROM focus GROUP BY 1" \\
        --dialect athena
    """
    if query == "-":
        query = sys.stdin.read()
    tctx = tool_context(ctx)
    ensure_data(tctx)
    if dialect:
        _transpile(tctx, query, dialect, as_json)
        return
    from tools.sql.run import run_query

    result = run_query(tctx, query)
    if as_json:
        emit_json(result.as_dict())
        return
    from agent.render import print_table

    print_table(result.columns, [[_display(v) for v in row] for row in result.rows])
    suffix = f"; truncated: {result.note}" if result.truncated else ""
    note(f"{result.row_count:,} row(s) in {result.elapsed_ms:,.0f} ms{suffix}")


def _transpile(tctx: Any, query: str, dialect: str, as_json: bool) -> None:
    import sqlglot

    from tools.errors import BadInput
    from tools.sql.run import open_runner

    with open_runner(tctx) as runner:
        guarded = runner.check(query)
    try:
        text = sqlglot.transpile(guarded.sql, read="duckdb", write=dialect, pretty=True)[0]
    except Exception as exc:  # sqlglot cannot express it in that dialect
        raise BadInput(f"cannot transpile to {dialect}: {' '.join(str(exc).split())[:200]}") from None
    note(f"transpiled for {dialect}; not run here (point `focus` at your FOCUS/CUR table there)")
    if as_json:
        emit_json({"dialect": dialect, "sql": text, "ran": False})
    else:
        click.echo(text)


def _display(value: Any) -> Any:
    """ISO timestamps from the JSON-safe rows back to datetimes so the table shows them briefly."""
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value
