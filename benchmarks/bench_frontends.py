"""Front-end overhead: MCP tool-call round trip vs a direct tool call, and TUI Enter-to-table vs `finops ask`.

Outside the default test run. Usage:
    python benchmarks/bench_frontends.py [--home HOME] [--repeat 30] [--out FILE]
or  pytest benchmarks/bench_frontends.py -m bench

Without --home a demo org is generated into a temporary home (takes a while). Measured in one run:

* MCP: the same `sql_query` call (a small aggregate over the demo org) made directly through the
  registry (``Tool.call``), through the SDK's in-memory client, and through a real `finops mcp`
  stdio subprocess with the real client, interleaved call by call. "added" is the p50 of the paired
  differences (front end - direct). Goal: <= 20 ms.
* TUI: time from Enter (the Input's Submitted handler) to the first screen refresh after the answer's
  table is in the DataTable, measured by the app itself, headless (Textual Pilot) on the real core with
  the offline planner, vs the CLI `finops ask --provider offline` for the same
  questions: in-process and interleaved with the TUI asks (warm, the fair comparison) and as a
  subprocess (cold, what a user waits).
  Goal: TUI <= 1.2x CLI.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SQL = "SELECT ServiceName, sum(EffectiveCost) AS cost FROM focus GROUP BY 1 ORDER BY 2 DESC LIMIT 10"
QUESTIONS = [
    "What did we spend last month?",
    "Top 5 services by cost last month",
    "Spend by team this month",
    "Monthly spend trend",
]


def p50(values: list[float]) -> float:
    return statistics.median(values) * 1000


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))] * 1000


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def ensure_home(home: Path | None) -> Path:
    from tools.billing import store
    from tools.context import ToolContext

    if home is not None and store.has_data(home / "finops.duckdb"):
        return home
    home = home or Path(tempfile.mkdtemp(prefix="bench-frontends-"))
    from tools.billing.demo import load_demo

    print(f"generating the demo org into {home} ...", file=sys.stderr)
    load_demo(ToolContext(home=home), seed=42, scale="small")
    return home


# --------------------------------------------------------------------------------------------- MCP
def bench_mcp(home: Path, repeat: int) -> dict[str, Any]:
    import anyio
    from mcp import Client, StdioServerParameters

    import tools
    from mcp_server.server import build_server
    from tools.context import ToolContext

    ctx = ToolContext(home=home)
    registry = tools.load_registry()
    args = {"sql": SQL}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "agent.cli", "--home", str(home), "mcp", "--transport", "stdio", "--no-demo"],
    )

    async def paired() -> dict[str, list[float]]:
        """Direct, in-memory and stdio calls interleaved, so load drift hits all three alike."""
        times: dict[str, list[float]] = {"direct": [], "memory": [], "stdio": []}
        async with Client(build_server(ctx, registry)) as memory, Client(params) as piped:
            for client in (memory, piped):  # warm caches (guard, schema, DuckDB file) on both sides
                await client.call_tool("sql_query", args)
            registry["sql_query"].call(ctx, args)
            for _ in range(repeat):
                started = time.perf_counter()
                registry["sql_query"].call(ctx, args)
                times["direct"].append(time.perf_counter() - started)
                for name, client in (("memory", memory), ("stdio", piped)):
                    started = time.perf_counter()
                    result = await client.call_tool("sql_query", args)
                    times[name].append(time.perf_counter() - started)
                    assert not result.is_error, result.content
        return times

    t = anyio.run(paired)
    added = {k: [m - d for m, d in zip(t[k], t["direct"], strict=True)] for k in ("memory", "stdio")}
    return {
        "direct_p50_ms": round(p50(t["direct"]), 1),
        "direct_p90_ms": round(p90(t["direct"]), 1),
        "in_memory_p50_ms": round(p50(t["memory"]), 1),
        "in_memory_added_p50_ms": round(p50(added["memory"]), 1),
        "stdio_p50_ms": round(p50(t["stdio"]), 1),
        "stdio_p90_ms": round(p90(t["stdio"]), 1),
        "stdio_added_p50_ms": round(p50(added["stdio"]), 1),
        "goal_added_ms": 20,
        "repeat": repeat,
    }


# --------------------------------------------------------------------------------------------- TUI
def _cli_ask(home: Path, question: str) -> float:
    """`finops ask --provider offline` through the real CLI entry point, in this process."""
    from agent.cli import main

    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(["--home", str(home), "ask", question, "--provider", "offline"])
        except SystemExit as exc:
            assert not exc.code, exc.code
    return time.perf_counter() - started


def tui_and_cli(home: Path, questions: list[str], repeat: int) -> tuple[list[float], list[float]]:
    """Enter-to-table in a headless app and the in-process CLI, interleaved question by question."""
    from agent.config import Settings
    from agent.tui.app import FinopsApp
    from agent.tui.backend import CoreBackend

    async def run() -> tuple[list[float], list[float]]:
        app = FinopsApp(CoreBackend(Settings(home=home, provider="offline")))
        tui: list[float] = []
        cli: list[float] = []
        async with app.run_test(size=(120, 40)) as pilot:
            for i in range(repeat + 1):
                question = questions[i % len(questions)]
                app.question.value = question
                app.question.focus()
                done = len(app.shown_after)
                await pilot.press("enter")
                while len(app.shown_after) == done:  # plain sleeps: pilot.pause would force repaints
                    await asyncio.sleep(0.002)
                cli_seconds = _cli_ask(home, question)  # the loop is idle: nothing competes with it
                if i:  # the first round warms imports and caches on both sides
                    tui.append(app.shown_after[-1])  # Enter handled -> screen refreshed with the table
                    cli.append(cli_seconds)
        return tui, cli

    return asyncio.run(run())


def cli_subprocess(home: Path, questions: list[str], repeat: int) -> list[float]:
    times = []
    for i in range(repeat):
        cmd = [sys.executable, "-m", "agent.cli", "--home", str(home), "ask", questions[i % len(questions)]]
        started = time.perf_counter()
        subprocess.run([*cmd, "--provider", "offline"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return times


def bench_tui(home: Path, repeat: int) -> dict[str, Any]:
    tui, warm = tui_and_cli(home, QUESTIONS, repeat)
    cold = cli_subprocess(home, QUESTIONS, max(4, repeat // 5))
    return {
        "tui_enter_to_table_p50_ms": round(p50(tui), 1),
        "tui_enter_to_table_p90_ms": round(p90(tui), 1),
        "cli_ask_in_process_p50_ms": round(p50(warm), 1),
        "cli_ask_subprocess_p50_ms": round(p50(cold), 1),
        "ratio_tui_vs_cli_in_process": round(p50(tui) / p50(warm), 2),
        "ratio_paired_p50": round(statistics.median(t / c for t, c in zip(tui, warm, strict=True)), 2),
        "ratio_tui_vs_cli_subprocess": round(p50(tui) / p50(cold), 2),
        "goal_ratio": 1.2,
        "questions": QUESTIONS,
        "repeat": repeat,
    }


def run(home: Path | None, repeat: int) -> dict[str, Any]:
    home = ensure_home(home)
    return {"home": str(home), "mcp": bench_mcp(home, repeat), "tui": bench_tui(home, repeat)}


@pytest.mark.bench
def test_bench_frontends(tmp_path: Path) -> None:
    report = run(None, 20)
    print(json.dumps(report, indent=1))
    assert report["mcp"]["direct_p50_ms"] > 0 and report["tui"]["tui_enter_to_table_p50_ms"] > 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=None, help="a home with data (default: a new demo org)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON report here")
    ns = parser.parse_args()
    report = run(ns.home, ns.repeat)
    text = json.dumps(report, indent=1)
    print(text)
    if ns.out:
        ns.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
