"""The MCP server over the SDK's in-memory client: tools, errors, bounds, resources and prompts."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from mcp import Client

from mcp_server.adapter import MAX_CONCURRENT_CALLS, MAX_WAITING_CALLS
from mcp_server.bounded import MAX_RESULT_CHARS
from mcp_server.server import PENDING_POLICIES_URI, SCHEMA_URI, build_server
from tools.context import ToolContext
from tools.registry import Tool

pytestmark = pytest.mark.anyio

HOSTILE_ARGS: list[dict[str, Any]] = [
    {"days": "'; DROP TABLE focus; --"},
    {"days": -5},
    {"days": 10**30},
    {"days": None},
    {"days": [1, 2, 3]},
    {"days": {"$gt": 1}},
    {"service": "x" * 100_000},
    {"service": "' OR 1=1; COPY focus TO '/tmp/leak.csv'; --"},
    {"unexpected": "field", "days": 7},
]

HOSTILE_SQL = [
    "DROP TABLE focus",
    "SELECT 1; DELETE FROM focus",
    "COPY focus TO '/tmp/leak.csv'",
    "SELECT * FROM read_csv('/etc/passwd')",
    "ATTACH '/tmp/x.duckdb' AS x",
    "INSTALL httpfs",
    "PRAGMA database_list",
    "SELECT getenv('HOME')",
    "/* a /* b */ SELECT 1 FROM */ TRUNCATE focus",
    "SELECT " + "(" * 3000 + "1" + ")" * 3000,
    "SELECT nonexistent_column FROM focus",
    "",
]


async def _call(server: Any, name: str, args: dict[str, Any]) -> Any:
    with anyio.fail_after(30):
        async with Client(server) as client:
            return await client.call_tool(name, args)


async def test_every_registry_tool_is_listed_read_only_with_its_input_and_output_schema(
    focus_ctx: ToolContext, registry: dict[str, Tool]
) -> None:
    server = build_server(focus_ctx, registry)
    with anyio.fail_after(30):
        async with Client(server) as client:
            listed = {t.name: t for t in (await client.list_tools()).tools}
    assert set(listed) == set(registry)
    for name, tool in registry.items():
        mcp_tool = listed[name]
        assert mcp_tool.input_schema == tool.input_model.model_json_schema()
        assert mcp_tool.output_schema is not None
        assert set(mcp_tool.output_schema["properties"]) == set(tool.output_model.model_fields)
        assert mcp_tool.annotations is not None and mcp_tool.annotations.read_only_hint is True
        assert mcp_tool.annotations.destructive_hint is False
        assert mcp_tool.description == tool.description


async def test_a_tool_call_returns_structured_content_from_the_real_database(
    focus_ctx: ToolContext, registry: dict[str, Tool]
) -> None:
    server = build_server(focus_ctx, registry)
    result = await _call(server, "spend_by_service", {"days": 7})
    assert result.is_error is False
    data = result.structured_content
    assert data["columns"] == ["ServiceName", "cost"]
    assert data["row_count"] == 3
    direct = registry["spend_by_service"].call(focus_ctx, {"days": 7}).model_dump(mode="json")
    assert data == direct
    assert json.loads(result.content[0].text) == direct


@pytest.mark.parametrize("args", HOSTILE_ARGS)
async def test_hostile_arguments_return_an_error_result_or_a_safe_answer_and_the_server_stays_up(
    focus_ctx: ToolContext, registry: dict[str, Tool], args: dict[str, Any]
) -> None:
    server = build_server(focus_ctx, registry)
    with anyio.fail_after(30):
        async with Client(server) as client:
            result = await client.call_tool("spend_by_service", args)
            if result.is_error:
                assert result.content[0].text.startswith("bad arguments for spend_by_service")
            else:  # accepted values are bound as data, never run as SQL
                assert result.structured_content["columns"] == ["ServiceName", "cost"]
            after = await client.call_tool("spend_by_service", {"days": 3})
    assert after.is_error is False and after.structured_content["row_count"] == 3


@pytest.mark.parametrize("sql", HOSTILE_SQL, ids=lambda s: s[:30] or "empty")
async def test_hostile_sql_is_refused_as_an_error_result_and_the_data_is_untouched(
    focus_ctx: ToolContext, registry: dict[str, Tool], sql: str
) -> None:
    server = build_server(focus_ctx, registry)
    with anyio.fail_after(30):
        async with Client(server) as client:
            result = await client.call_tool("run_sql", {"sql": sql})
            count = await client.call_tool("run_sql", {"sql": "SELECT count(*) AS n FROM focus"})
    assert result.is_error is True
    text = result.content[0].text
    assert "\n" not in text and len(text) < 600
    assert count.structured_content["rows"] == [[360]]


async def test_a_tool_error_reaches_the_client_with_its_actionable_message(
    focus_ctx: ToolContext, registry: dict[str, Tool]
) -> None:
    result = await _call(build_server(focus_ctx, registry), "needs_fixing", {})
    assert result.is_error is True
    assert result.content[0].text == "group_by 'teem' is not a dimension; did you mean 'team'?"


async def test_an_unexpected_exception_is_an_error_result_without_its_internals(
    focus_ctx: ToolContext, registry: dict[str, Tool]
) -> None:
    result = await _call(build_server(focus_ctx, registry), "explodes", {})
    assert result.is_error is True
    text = result.content[0].text
    assert "internal error in explodes (RuntimeError)" in text
    assert "credentials" not in text and "alice" not in text


async def test_an_unknown_tool_is_an_error_result(focus_ctx: ToolContext, registry: dict[str, Tool]) -> None:
    result = await _call(build_server(focus_ctx, registry), "drop_everything", {})
    assert result.is_error is True and "drop_everything" in result.content[0].text


async def test_a_large_result_is_cut_to_fit_and_says_how_many_rows_there_were(
    focus_ctx: ToolContext, registry: dict[str, Tool]
) -> None:
    result = await _call(build_server(focus_ctx, registry), "many_rows", {"n": 50_000})
    assert result.is_error is False
    data = result.structured_content
    assert data["row_count"] == 50_000
    assert data["truncated"] is True
    assert 0 < len(data["rows"]) < 50_000
    assert data["rows"][0] == [0, "resource-000000", 0.0]
    assert len(json.dumps(data)) <= MAX_RESULT_CHARS
    text = result.content[0].text
    assert text.startswith(
        f"Result shortened to fit the client's limit (rows: showing {len(data['rows']):,} of 50,000)"
    )
    assert result.meta["finops/truncated"] == [{"path": "rows", "kept": len(data["rows"]), "total": 50_000}]


async def test_fifty_concurrent_calls_all_get_an_answer_or_a_busy_error(
    focus_ctx: ToolContext, registry: dict[str, Tool]
) -> None:
    server = build_server(focus_ctx, registry)
    results: list[Any] = []
    with anyio.fail_after(60):
        async with Client(server) as client:

            async def one(i: int) -> None:
                results.append(await client.call_tool("spend_by_service", {"days": 1 + i % 30}))

            async with anyio.create_task_group() as tg:
                for i in range(50):
                    tg.start_soon(one, i)
    assert len(results) == 50
    for r in results:
        assert (not r.is_error and r.structured_content["row_count"] == 3) or "busy" in r.content[0].text
    assert sum(1 for r in results if not r.is_error) >= MAX_CONCURRENT_CALLS + MAX_WAITING_CALLS


async def test_the_schema_resource_and_the_prompts_are_offered(
    focus_ctx: ToolContext, registry: dict[str, Tool]
) -> None:
    server = build_server(focus_ctx, registry)
    with anyio.fail_after(30):
        async with Client(server) as client:
            uris = [str(r.uri) for r in (await client.list_resources()).resources]
            schema = await client.read_resource(SCHEMA_URI)
            prompts = [p.name for p in (await client.list_prompts()).prompts]
            prompt = await client.get_prompt("explain_biggest_change", {"period": "the week of 2026-10-20"})
    assert SCHEMA_URI in uris and PENDING_POLICIES_URI not in uris
    assert "EffectiveCost" in schema.contents[0].text
    assert {"explain_biggest_change", "monthly_review", "untagged_spend"} <= set(prompts)
    text = prompt.messages[0].content.text
    assert "the week of 2026-10-20" in text and "spend_by_service" not in text
