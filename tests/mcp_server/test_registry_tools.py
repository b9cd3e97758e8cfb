"""Every tool of the real registry, offered over MCP with no per-tool code, called in memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

import tools
from agent.config import Settings
from mcp_server.server import build_server
from tests.mcp_server.test_server import HOSTILE_SQL
from tools.context import ToolContext

pytestmark = pytest.mark.anyio

JUNK_ARGS: list[dict[str, Any]] = [
    {"sql": 1, "horizon_days": "x", "by": {"nested": ["deep"]}},
    {"zzz": "'; DROP TABLE focus; --"},
    {"horizon_days": -1, "sql": None},
]


def _settings(ctx: ToolContext) -> Settings:
    return Settings(home=ctx.home, provider="offline")


async def test_every_registered_tool_is_offered_with_the_ask_tool_and_all_are_read_only(
    focus_ctx: ToolContext,
) -> None:
    registry = tools.load_registry()
    server = build_server(focus_ctx, registry, ask_settings=_settings(focus_ctx))
    with anyio.fail_after(30):
        async with Client(server) as client:
            listed = (await client.list_tools()).tools
    assert {t.name for t in listed} == set(registry) | {"ask"}
    for t in listed:
        assert t.annotations is not None and t.annotations.read_only_hint is True, t.name
        assert t.output_schema is not None and t.output_schema.get("type") == "object", t.name
        assert t.description, t.name


async def test_every_registered_tool_answers_or_returns_an_error_result_for_empty_and_junk_arguments(
    focus_ctx: ToolContext,
) -> None:
    registry = tools.load_registry()
    server = build_server(focus_ctx, registry)
    with anyio.fail_after(120):
        async with Client(server) as client:
            for name in registry:
                for args in [{}, *JUNK_ARGS]:
                    result = await client.call_tool(name, args)
                    if result.is_error:
                        text = result.content[0].text
                        assert text and "Traceback" not in text, (name, args, text)
                    else:  # the client has validated it against the tool's output schema
                        assert isinstance(result.structured_content, dict), (name, args)
            alive = await client.call_tool("schema", {})
    assert alive.is_error is False


async def test_guarded_sql_over_mcp_equals_the_direct_tool_call(focus_ctx: ToolContext) -> None:
    registry = tools.load_registry()
    sql = "SELECT ServiceName, sum(EffectiveCost) AS cost FROM focus GROUP BY 1 ORDER BY 2 DESC"
    direct = registry["sql_query"].call(focus_ctx, {"sql": sql}).model_dump(mode="json")
    server = build_server(focus_ctx, registry)
    with anyio.fail_after(30):
        async with Client(server) as client:
            result = await client.call_tool("sql_query", {"sql": sql})
    assert result.is_error is False
    assert result.structured_content["rows"] == direct["rows"]
    assert direct["rows"][0][0] == "Amazon Elastic Compute Cloud"


@pytest.mark.parametrize("sql", HOSTILE_SQL, ids=lambda s: s[:30] or "empty")
async def test_the_real_sql_tool_refuses_hostile_sql_with_an_error_result(focus_ctx: ToolContext, sql: str) -> None:
    server = build_server(focus_ctx, tools.load_registry())
    with anyio.fail_after(30):
        async with Client(server) as client:
            result = await client.call_tool("sql_query", {"sql": sql})
            after = await client.call_tool("sql_query", {"sql": "SELECT count(*) AS n FROM focus"})
    assert result.is_error is True
    assert "\n" not in result.content[0].text
    assert after.structured_content["rows"] == [[360]]


async def test_ask_over_mcp_answers_offline_with_sql_and_a_table(focus_ctx: ToolContext) -> None:
    server = build_server(focus_ctx, tools.load_registry(), ask_settings=_settings(focus_ctx))
    with anyio.fail_after(60):
        async with Client(server) as client:
            result = await client.call_tool("ask", {"question": "total cost by service"})
            empty = await client.call_tool("ask", {"question": ""})
    assert result.is_error is False, result.content[0].text
    data = result.structured_content
    assert data["provider"] == "offline"
    assert data["usage"]["cost_usd"] == 0.0
    assert data["answer"]
    assert empty.is_error is True and "question" in empty.content[0].text


def test_the_pending_policy_resource_appears_when_the_policy_tool_is_registered(tmp_path: Path) -> None:
    registry = tools.load_registry()
    assert "policies_list" in registry
    server = build_server(ToolContext(home=tmp_path), registry)
    uris = [str(r.uri) for r in anyio.run(server.list_resources)]
    assert "finops://policies/pending" in uris
