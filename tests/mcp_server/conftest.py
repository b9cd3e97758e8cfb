"""Fixtures for the MCP server tests: a real home with FOCUS data and test-only registry tools."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from tests.mcp_server.focus_home import make_home
from tools.context import ToolContext
from tools.errors import ToolError
from tools.registry import Tool


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def focus_ctx(tmp_path_factory: pytest.TempPathFactory) -> ToolContext:
    return make_home(tmp_path_factory.mktemp("mcp-home"))


class SpendIn(BaseModel):
    """Spend by service over the last N days of data."""

    days: int = Field(default=30, ge=1, le=400, description="How many days back from the last day.")
    service: str | None = Field(default=None, max_length=200, description="Only this service.")


class TableOut(BaseModel):
    columns: list[str]
    rows: list[list[str | float | int | None]]
    row_count: int
    truncated: bool = False


class SqlIn(BaseModel):
    sql: str = Field(max_length=20_000)


class ManyIn(BaseModel):
    n: int = Field(ge=0, le=200_000)


class NoIn(BaseModel):
    pass


def _table(result: object) -> TableOut:
    from tools.sql.run import to_json_safe

    cols = list(getattr(result, "columns"))
    rows = [[to_json_safe(v) for v in r] for r in getattr(result, "rows")]
    return TableOut(
        columns=cols, rows=rows, row_count=getattr(result, "row_count"), truncated=getattr(result, "truncated")
    )


def spend_by_service(ctx: ToolContext, args: SpendIn) -> TableOut:
    from tools.sql.run import run_query

    where = f"WHERE ChargePeriodStart >= (SELECT max(ChargePeriodStart) FROM focus) - INTERVAL {args.days} DAY"
    if args.service is not None:
        where += " AND ServiceName = '" + args.service.replace("'", "''") + "'"
    sql = f"SELECT ServiceName, sum(EffectiveCost) AS cost FROM focus {where} GROUP BY 1 ORDER BY 2 DESC"
    return _table(run_query(ctx, sql))


def run_sql(ctx: ToolContext, args: SqlIn) -> TableOut:
    from tools.sql.run import run_query

    return _table(run_query(ctx, args.sql))


def many_rows(ctx: ToolContext, args: ManyIn) -> TableOut:
    rows: list[list[str | float | int | None]] = [[i, f"resource-{i:06d}", i * 1.5] for i in range(args.n)]
    return TableOut(columns=["i", "resource", "cost"], rows=rows, row_count=args.n)


def needs_fixing(ctx: ToolContext, args: NoIn) -> TableOut:
    raise ToolError("group_by 'teem' is not a dimension; did you mean 'team'?")


def explodes(ctx: ToolContext, args: NoIn) -> TableOut:
    raise RuntimeError("secret internals: /home/alice/.aws/credentials")


def make_registry() -> dict[str, Tool]:
    """Test-only tools in the shape every registry tool has."""
    specs = [
        ("spend_by_service", "Spend by service", SpendIn, spend_by_service),
        ("run_sql", "Guarded SQL", SqlIn, run_sql),
        ("many_rows", "Many rows", ManyIn, many_rows),
        ("needs_fixing", "Needs fixing", NoIn, needs_fixing),
        ("explodes", "Explodes", NoIn, explodes),
    ]
    return {
        name: Tool(
            name=name, title=title, description=(fn.__doc__ or title), input_model=model, output_model=TableOut, func=fn
        )
        for name, title, model, fn in specs
    }


@pytest.fixture
def registry() -> dict[str, Tool]:
    return make_registry()
