"""A worker process for the shared-home test: `finops sql` in a loop, or re-ingest in a loop.

Both record ledger entries (reserve + settle) as the agent does, and write a JSON report:
``python -m tests.mcp_server.shared_home_worker sql|ingest HOME SECONDS REPORT [FILES...]``.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from tools import ledger
from tools.context import ToolContext

SQL = "SELECT count(*) AS n, sum(EffectiveCost) AS total FROM focus"


def _record(ctx: ToolContext, feature: str, i: int) -> str:
    call_id = ledger.reserve(
        ctx.ledger_path, reserved_usd=Decimal("0.001"), feature=feature, provider="scripted", model="test"
    )
    ledger.settle(ctx.ledger_path, call_id, cost_usd=Decimal("0.0005"), input_tokens=10 + i, output_tokens=1)
    return call_id


def run_sql_cli(home: Path) -> tuple[int, str, str]:
    """The real `finops sql --json` entry point, in this process."""
    from agent.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["--home", str(home), "sql", SQL, "--json"])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def sql_loop(ctx: ToolContext, seconds: float) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    calls: list[str] = []
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline or i < 3:
        code, out, err = run_sql_cli(ctx.home)
        doc = json.loads(out) if code == 0 and out.strip() else None
        results.append({"code": code, "rows": doc["rows"] if doc else None, "stderr": err})
        calls.append(_record(ctx, "sql-loop", i))
        i += 1
    return {"results": results, "calls": calls}


def ingest_loop(ctx: ToolContext, seconds: float, files: list[Path]) -> dict[str, Any]:
    from tools.billing.ingest import ingest_paths

    results: list[dict[str, Any]] = []
    calls: list[str] = []
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline or i < 3:
        try:
            summary = ingest_paths(ctx, [files[i % len(files)]])
            results.append({"ok": True, "rows": summary.model_dump(mode="json").get("rows")})
        except Exception as exc:
            results.append({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        calls.append(_record(ctx, "ingest-loop", i))
        i += 1
    return {"results": results, "calls": calls}


def main(argv: list[str]) -> None:
    kind, home, seconds, report = argv[0], Path(argv[1]), float(argv[2]), Path(argv[3])
    ctx = ToolContext(home=home)
    if kind == "sql":
        doc = sql_loop(ctx, seconds)
    else:
        doc = ingest_loop(ctx, seconds, [Path(p) for p in argv[4:]])
    report.write_text(json.dumps(doc), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
