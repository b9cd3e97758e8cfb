"""The registered tools: sql_query and schema, as front ends call them."""

from __future__ import annotations

import json

import pytest

import tools
from tools.context import ToolContext
from tools.errors import SqlRejected, ToolError


def test_registry_offers_sql_query_and_schema_and_no_placeholder():
    registry = tools.load_registry()
    assert {"sql_query", "schema"} <= set(registry)
    assert registry["sql_query"].read_only and "SELECT" in registry["sql_query"].description
    assert "tools.billing.schema_tool" not in tools.TOOL_MODULES


def test_sql_query_tool_returns_plain_json(shared_ctx: ToolContext):
    out = tools.load_registry()["sql_query"].call(
        shared_ctx, {"sql": "SELECT ServiceName, sum(EffectiveCost) AS c FROM focus GROUP BY 1 ORDER BY 1"}
    )
    doc = json.loads(out.model_dump_json())
    assert doc["columns"] == ["ServiceName", "c"] and doc["row_count"] == 3
    assert all(isinstance(row[1], float) for row in doc["rows"])
    assert doc["sql"].startswith("SELECT ServiceName, SUM(EffectiveCost)")


def test_sql_query_tool_refusal_is_a_fixable_tool_error(shared_ctx: ToolContext):
    with pytest.raises(ToolError) as info:
        tools.load_registry()["sql_query"].call(shared_ctx, {"sql": "SELECT sum(EffectivCost) FROM focus"})
    assert isinstance(info.value, SqlRejected) and "did you mean EffectiveCost" in str(info.value)


def test_sql_query_tool_rejects_missing_arguments(shared_ctx: ToolContext):
    with pytest.raises(ToolError, match="bad arguments for sql_query"):
        tools.load_registry()["sql_query"].call(shared_ctx, {})


def test_schema_tool_returns_the_prompt_text(shared_ctx: ToolContext):
    out = tools.load_registry()["schema"].call(shared_ctx, {})
    assert out.prompt.startswith("DuckDB table focus") and out.tokens > 0
