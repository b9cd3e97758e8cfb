"""Tools the model calls: ``sql_query`` (guarded SQL) and ``schema`` (the compact schema prompt)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from tools.context import ToolContext
from tools.registry import tool


class SqlQueryIn(BaseModel):
    sql: str = Field(description="One DuckDB SELECT (or WITH ... SELECT) over focus or agent_usage.")


class SqlQueryOut(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    note: str | None = None
    sql: str = Field(description="The SQL that ran, as re-rendered by the guard.")


class SchemaIn(BaseModel):
    pass


class SchemaOut(BaseModel):
    prompt: str
    tokens: int


def _plain(value: Any) -> Any:
    """Money stays exact in the core; the model gets plain JSON numbers."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@tool(name="sql_query", title="Run read-only SQL")
def sql_query(ctx: ToolContext, args: SqlQueryIn) -> SqlQueryOut:
    """Run one read-only DuckDB SELECT over the billing table `focus` (FOCUS columns, Tags['key'])
    and `agent_usage` (this agent's own LLM calls). Call `schema` first for column names and
    values. Only SELECT/WITH; no files, settings or table functions. Results are capped (see
    `truncated` and `note`): aggregate with GROUP BY instead of listing raw rows."""
    from tools.sql.run import run_query

    result = run_query(ctx, args.sql)
    return SqlQueryOut(
        columns=result.columns,
        rows=[_plain(r) for r in result.rows],
        row_count=result.row_count,
        truncated=result.truncated,
        note=result.note,
        sql=result.sql,
    )


@tool(name="schema", title="Billing schema")
def schema(ctx: ToolContext, args: SchemaIn) -> SchemaOut:
    """The tables you can query (`focus`, `agent_usage`): columns that hold data with short
    meanings, frequent values, the Tags['key'] idiom and which cost column to use."""
    from tools.sql.schema_prompt import schema_prompt

    built = schema_prompt(ctx)
    return SchemaOut(prompt=built.prompt, tokens=built.tokens)
