"""One home, three processes at once: an MCP stdio server answering queries, `finops sql` in a loop,
and a re-ingest loop; the last two also write ledger entries. No lock error reaches anyone, every
reader sees a whole ingest (never half of one), and no ledger entry is lost."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.mcp_server.focus_home import make_home, write_focus_csv

SECONDS = float(os.environ.get("FINOPS_SHARED_HOME_SECONDS", "5"))
SQL = "SELECT count(*) AS n, sum(EffectiveCost) AS total FROM focus"
BAD_WORDS = ("lock", "busy", "traceback", "conflicting")


def _worker(kind: str, home: Path, report: Path, *files: Path) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "tests.mcp_server.shared_home_worker", kind, str(home), str(SECONDS), str(report)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen(
        [*args, *map(str, files)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def _totals(path: Path) -> set[Decimal]:
    """The total of each file: any reader must see exactly one of them."""
    import csv

    with path.open(encoding="utf-8") as fh:
        return {sum((Decimal(r["EffectiveCost"]) for r in csv.DictReader(fh)), Decimal(0))}


def test_an_mcp_server_a_sql_loop_and_a_reingest_loop_share_one_home(tmp_path: Path) -> None:
    ctx = make_home(tmp_path)
    restated = write_focus_csv(tmp_path / "files" / "restated.csv", scale=1.1)
    original = tmp_path / "files" / "focus.csv"
    allowed = _totals(original) | _totals(restated)

    sql_proc = _worker("sql", ctx.home, tmp_path / "sql.json")
    ingest_proc = _worker("ingest", ctx.home, tmp_path / "ingest.json", restated, original)
    mcp_results: list[Any] = []
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "agent.cli", "--home", str(ctx.home), "mcp", "--transport", "stdio", "--no-demo"],
        env=dict(os.environ),
    )

    async def drive_mcp() -> None:
        with anyio.fail_after(SECONDS * 20 + 60):
            async with Client(params) as client:
                while sql_proc.poll() is None or ingest_proc.poll() is None or len(mcp_results) < 3:
                    mcp_results.append(await client.call_tool("sql_query", {"sql": SQL}))

    try:
        anyio.run(drive_mcp)
    finally:
        sql_out = sql_proc.communicate(timeout=SECONDS * 20 + 60)
        ingest_out = ingest_proc.communicate(timeout=SECONDS * 20 + 60)
    assert sql_proc.returncode == 0, sql_out[1]
    assert ingest_proc.returncode == 0, ingest_out[1]

    sql_report = json.loads((tmp_path / "sql.json").read_text())
    ingest_report = json.loads((tmp_path / "ingest.json").read_text())

    assert all(r["ok"] for r in ingest_report["results"]), ingest_report["results"]
    assert len(ingest_report["results"]) >= 3

    for r in sql_report["results"]:
        assert r["code"] == 0, r["stderr"]
        assert not any(w in r["stderr"].lower() for w in BAD_WORDS), r["stderr"]
        n, total = r["rows"][0]
        assert n == 360 and Decimal(str(total)).quantize(Decimal("0.01")) in {
            t.quantize(Decimal("0.01")) for t in allowed
        }

    assert len(mcp_results) >= 3
    for result in mcp_results:
        assert result.is_error is False, result.content[0].text
        n, total = result.structured_content["rows"][0]
        assert n == 360
        assert Decimal(str(total)).quantize(Decimal("0.01")) in {t.quantize(Decimal("0.01")) for t in allowed}

    written = set(sql_report["calls"]) | set(ingest_report["calls"])
    with sqlite3.connect(ctx.ledger_path) as con:
        rows = con.execute("SELECT call_id, outcome FROM usage").fetchall()
    assert {r[0] for r in rows} == written
    assert len(rows) == len(sql_report["calls"]) + len(ingest_report["calls"])
    assert all(outcome == "ok" for _, outcome in rows)


pytestmark = pytest.mark.timeout(600)
