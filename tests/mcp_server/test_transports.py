"""`finops mcp` as a real subprocess: stdio with the real client, streamable HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters

from tools.context import ToolContext

TOKEN = "test-token-0123456789abcdef"


def _cli(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "agent.cli", "--home", str(home), "mcp", *args]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "FINOPS_MCP_TOKEN"}
    env.update(extra)
    return env


@pytest.mark.anyio
async def test_the_printed_claude_desktop_config_starts_a_server_the_real_client_can_use(
    focus_ctx: ToolContext,
) -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "agent.cli", "--home", str(focus_ctx.home), "mcp", "--print-config", "claude-desktop"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    server = json.loads(printed.stdout)["mcpServers"]["finops"]
    assert Path(server["command"]).is_absolute() and server["args"][-3:] == ["mcp", "--transport", "stdio"]
    params = StdioServerParameters(command=server["command"], args=server["args"], env=_env())
    with anyio.fail_after(60):
        async with Client(params) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            bad = await client.call_tool("sql_query", {"sql": "COPY focus TO '/tmp/x.csv'"})
            junk = await client.call_tool("sql_query", {"sql": ["not", "a", "string"]})
            good = await client.call_tool("sql_query", {"sql": "SELECT count(*) AS n FROM focus"})
    assert {"sql_query", "schema", "ask"} <= names
    assert bad.is_error and junk.is_error
    assert good.is_error is False and good.structured_content["rows"] == [[360]]


def test_stdio_stdout_carries_only_json_rpc_lines_even_when_a_tool_fails(focus_ctx: ToolContext) -> None:
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "sql_query", "arguments": {"sql": "SELECT * FROM read_csv('/etc/passwd')"}},
        },
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "nope", "arguments": {}}},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "schema", "arguments": {}}},
    ]
    proc = subprocess.Popen(
        _cli(focus_ctx.home, "--transport", "stdio", "--no-demo"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("".join(json.dumps(m) + "\n" for m in messages) + "this is not json\n")
    proc.stdin.flush()
    lines: list[dict[str, Any]] = []
    try:
        while not {2, 3, 4} <= {m.get("id") for m in lines}:
            line = proc.stdout.readline()  # blocks until the server answers; the test timeout bounds it
            if not line:
                break
            lines.append(json.loads(line))  # every stdout line must parse as JSON
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    lines += [json.loads(line) for line in proc.stdout.read().splitlines()]
    by_id = {m.get("id"): m for m in lines if "id" in m}
    assert by_id[2]["result"]["isError"] is True
    assert by_id[3]["result"]["isError"] is True
    assert by_id[4]["result"].get("isError") in (None, False)
    assert all(m.get("jsonrpc") == "2.0" for m in lines)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # polling a port that is not open yet
    raise AssertionError("server did not start listening")


def _serve_http(home: Path, token: str | None) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    port = _free_port()
    env = _env(FINOPS_MCP_TOKEN=token) if token else _env()
    proc = subprocess.Popen(
        _cli(home, "--transport", "http", "--port", str(port), "--no-demo"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        _wait_for_port(port, proc)
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture(scope="module")
def http_server(focus_ctx: ToolContext) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    yield from _serve_http(focus_ctx.home, None)


@pytest.fixture
def http_server_with_token(focus_ctx: ToolContext) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    yield from _serve_http(focus_ctx.home, TOKEN)


def _post(port: int, headers: dict[str, str], body: bytes | None = None) -> httpx.Response:
    payload = (
        body
        if body is not None
        else json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "0"},
                },
            }
        ).encode()
    )
    base = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    return httpx.post(f"http://127.0.0.1:{port}/mcp", content=payload, headers={**base, **headers}, timeout=10)


def test_http_server_answers_the_real_client_on_loopback(http_server: tuple[int, Any]) -> None:
    port, proc = http_server

    async def session() -> tuple[Any, Any]:
        with anyio.fail_after(60):
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                good = await client.call_tool("sql_query", {"sql": "SELECT count(*) AS n FROM focus"})
                bad = await client.call_tool("sql_query", {"sql": "ATTACH '/tmp/x.db' AS x"})
                return good, bad

    good, bad = anyio.run(session)
    assert good.structured_content["rows"] == [[360]]
    assert bad.is_error is True
    assert proc.poll() is None


def test_http_refuses_rebinding_hosts_foreign_origins_wrong_types_and_huge_bodies(
    http_server: tuple[int, Any],
) -> None:
    port, _ = http_server
    assert _post(port, {}).status_code == 200
    assert _post(port, {"host": "evil.test:8000"}).status_code == 421
    assert _post(port, {"origin": "http://evil.test"}).status_code == 403
    assert _post(port, {"content-type": "text/plain"}).status_code == 400
    assert _post(port, {}, body=b"{" + b" " * (5 * 1024 * 1024) + b"}").status_code == 413
    assert _post(port, {"origin": f"http://localhost:{port}"}).status_code == 200


def test_with_a_token_every_request_needs_the_bearer_header(http_server_with_token: tuple[int, Any]) -> None:
    port, _ = http_server_with_token
    assert _post(port, {}).status_code == 401
    assert _post(port, {"authorization": "Bearer wrong-token-0123456789"}).status_code == 401
    assert _post(port, {"authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_a_non_loopback_bind_without_a_token_is_refused_before_listening(tmp_path: Path) -> None:
    proc = subprocess.run(
        _cli(tmp_path, "--transport", "http", "--host", "0.0.0.0", "--port", "1", "--no-demo"),
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "FINOPS_MCP_TOKEN" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.slow  # generates and loads the demo org (tens of seconds)
@pytest.mark.anyio
async def test_on_an_empty_home_the_server_answers_at_once_and_tools_wait_for_the_demo(tmp_path: Path) -> None:
    params = StdioServerParameters(command=sys.executable, args=_cli(tmp_path / "home", "--transport", "stdio")[1:])
    with anyio.fail_after(600):
        async with Client(params) as client:
            started = time.monotonic()
            names = {t.name for t in (await client.list_tools()).tools}
            listed_after = time.monotonic() - started
            result = await client.call_tool("sql_query", {"sql": "SELECT count(*) AS n FROM focus"})
    assert "sql_query" in names and listed_after < 5
    assert result.is_error is False and result.structured_content["rows"][0][0] > 10_000
