"""The query runner: hardened read-only connection, ledger table, caps, timeout, JSON-safe values."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from tools.context import QueryLimits, ToolContext
from tools.errors import DataMissing, FinopsError, QueryLimit, SqlRejected, ToolError
from tools.sql import run
from tools.sql.guard import GuardedQuery

from .conftest import ROWS, build_home
from .corpus import ENGINE_BLOCKED

GOOD = yaml.safe_load(Path(__file__).with_name("good_queries.yaml").read_text(encoding="utf-8"))["queries"]


def _settings(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {str(n): str(v) for n, v in con.execute("SELECT name, value FROM duckdb_settings()").fetchall()}


def test_connection_is_offline_locked_and_bounded(shared_ctx: ToolContext):
    with run.connect(shared_ctx) as con:
        s = _settings(con)
    assert s["enable_external_access"] == "false"
    assert s["lock_configuration"] == "true"
    assert s["autoinstall_known_extensions"] == "false"
    assert s["autoload_known_extensions"] == "false"
    assert s["allow_community_extensions"] == "false"
    assert s["allowed_directories"] == "[]"
    assert s["temp_directory"] == ""
    assert s["threads"] == str(shared_ctx.limits.threads)
    assert s["memory_limit"].startswith(("488", "512"))  # 512MB shown as MiB


@pytest.mark.parametrize("case", ENGINE_BLOCKED, ids=[c.id for c in ENGINE_BLOCKED])
def test_engine_refuses_it_even_when_the_guard_is_bypassed(case, shared_ctx: ToolContext, tmp_path: Path):
    canary = tmp_path / "canary.csv"
    canary.write_text("a,b\n1,2\n")
    out = tmp_path / "out.csv"
    raw = GuardedQuery(sql=case.sql(canary_path=str(canary), out=str(out)), tables=(), columns=())
    with run.connect(shared_ctx) as con, pytest.raises(FinopsError):
        run.execute(con, raw, shared_ctx.limits)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["canary.csv"]


@pytest.mark.parametrize("sql", GOOD)
def test_typical_query_runs(sql, shared_ctx: ToolContext):
    result = run.run_query(shared_ctx, sql)
    assert result.columns and result.row_count == len(result.rows)


def test_identifier_case_does_not_change_the_answer(shared_ctx: ToolContext):
    answers = [
        run.run_query(shared_ctx, f"SELECT {col}, sum({cost}) AS c FROM focus GROUP BY 1 ORDER BY 1").rows
        for col, cost in (("ServiceName", "BilledCost"), ("servicename", "billedcost"), ('"ServiceName"', "BILLEDCOST"))
    ]
    assert answers[0] == answers[1] == answers[2]
    assert len(answers[0]) == 3


def test_row_cap_cuts_and_says_so(shared_ctx: ToolContext):
    result = run.run_query(shared_ctx, "SELECT ServiceName, EffectiveCost FROM focus")
    assert result.row_count == shared_ctx.limits.max_rows < ROWS
    assert result.truncated and result.note and "aggregate" in result.note


def test_character_cap_keeps_the_json_under_the_limit(shared_ctx: ToolContext):
    result = run.run_query(shared_ctx, "SELECT ChargeDescription || lpad('', 900, 'x') AS wide FROM focus")
    assert result.truncated and result.note and "characters" in result.note
    assert 0 < result.row_count < shared_ctx.limits.max_rows
    assert len(json.dumps(result.rows)) <= shared_ctx.limits.max_chars


def test_one_huge_cell_is_cut_and_flagged(shared_ctx: ToolContext):
    result = run.run_query(shared_ctx, "SELECT string_agg(ChargeDescription, ',') AS all_text FROM focus")
    cell = result.rows[0][0]
    assert len(cell) == run.MAX_CELL_CHARS + 1 and cell.endswith("…")
    assert result.truncated and result.note and "cut" in result.note


def test_timeout_interrupts_and_the_connection_still_answers(shared_ctx: ToolContext):
    limits = dataclasses.replace(shared_ctx.limits, timeout_s=0.5)
    ctx = dataclasses.replace(shared_ctx, limits=limits)
    before = {t.ident for t in threading.enumerate()}
    with run.open_runner(ctx) as runner:
        started = time.monotonic()
        with pytest.raises(QueryLimit, match=r"longer than 0.5 s"):
            runner.run("SELECT count(*) FROM focus a, focus b, focus c, focus d, focus e")
        assert time.monotonic() - started < 5
        assert runner.run("SELECT count(*) AS n FROM focus").rows == [[ROWS]]
    leaked = [t for t in threading.enumerate() if t.ident not in before and isinstance(t, threading.Timer)]
    assert leaked == []


def test_agent_usage_holds_the_ledger(shared_ctx: ToolContext):
    result = run.run_query(shared_ctx, "SELECT model, cost_usd, input_tokens FROM agent_usage ORDER BY model")
    assert result.rows == [["claude-x", Decimal("0.0125"), 1000], ["gpt-y", Decimal("0.5"), 1000]]


def test_agent_usage_is_empty_and_no_ledger_is_created_without_one(tmp_path: Path):
    ctx = build_home(tmp_path / "home")
    (ctx.ledger_path).unlink()
    result = run.run_query(ctx, "SELECT count(*) FROM agent_usage")
    assert result.rows == [[0]]
    assert not ctx.ledger_path.exists()


def test_guard_schema_holds_focus_and_agent_usage_only(shared_ctx: ToolContext):
    with run.connect(shared_ctx) as con:
        schema = run.schema_for_guard(con)
    assert list(schema) == ["focus", "agent_usage"]
    assert schema["focus"]["Tags"].startswith("MAP") and "x_tag_team" in schema["focus"]


def test_missing_database_is_data_missing(tmp_path: Path):
    with pytest.raises(DataMissing, match="finops demo"):
        run.run_query(ToolContext(home=tmp_path / "empty"), "SELECT 1")


def test_values_are_json_safe_and_money_stays_decimal(shared_ctx: ToolContext):
    result = run.run_query(
        shared_ctx,
        "SELECT ChargePeriodStart, EffectiveCost, Tags, [1, 2] AS l, 1.5::DOUBLE AS f FROM focus "
        "WHERE Tags['team'] = 'web' ORDER BY ChargePeriodStart LIMIT 1",
    )
    start, cost, tags, items, number = result.rows[0]
    assert start == "2026-10-03T00:00:00"  # i=2: i=0 is untagged
    assert isinstance(cost, Decimal)
    assert tags == {"team": "web", "env": "prod"} and items == [1, 2] and number == 1.5
    json.dumps(result.rows, default=float)


def test_engine_error_is_one_line_tool_error(shared_ctx: ToolContext):
    with pytest.raises(ToolError, match="query failed: ") as info:
        run.run_query(shared_ctx, "SELECT ServiceName + 1 FROM focus")
    assert "\n" not in str(info.value)


def test_rejected_sql_never_reaches_duckdb(shared_ctx: ToolContext):
    with run.open_runner(shared_ctx) as runner:
        with pytest.raises(SqlRejected):
            runner.run("DROP TABLE focus")
        assert runner.run("SELECT count(*) FROM focus").rows == [[ROWS]]


def test_guard_cost_is_measured_separately(shared_ctx: ToolContext):
    result = run.run_query(shared_ctx, GOOD[0])
    assert 0 < result.guard_ms and 0 < result.elapsed_ms


def test_bad_memory_limit_setting_is_refused_before_it_reaches_sql():
    with pytest.raises(ValueError, match="memory_limit"):
        run.harden(duckdb.connect(), QueryLimits(memory_limit="1GB'; SET x='"))


def test_queries_in_one_process_share_the_locked_instance(shared_ctx: ToolContext):
    with run.open_runner(shared_ctx) as outer:
        inner = run.run_query(shared_ctx, "SELECT model FROM agent_usage ORDER BY 1")
        assert inner.rows == [["claude-x"], ["gpt-y"]]
        assert outer.run("SELECT count(*) FROM focus").rows == [[ROWS]]
    assert run.run_query(shared_ctx, "SELECT count(*) FROM focus").rows == [[ROWS]]


def test_concurrent_threads_each_get_an_answer(shared_ctx: ToolContext):
    answers: list[object] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            answers.append(run.run_query(shared_ctx, "SELECT count(*) FROM focus").rows)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and answers == [[[ROWS]]] * 4


def _temp_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [str(r[0]) for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()]


def test_ledger_is_copied_only_when_a_query_reads_it_and_again_after_it_changed(home_ctx: ToolContext):
    from tools.ledger import reserve, settle

    with run.open_runner(home_ctx) as runner:
        runner.run("SELECT count(*) FROM focus")
        assert _temp_tables(runner.con) == []
        assert runner.run("SELECT count(*) FROM agent_usage").rows == [[2]]
        call = reserve(home_ctx.ledger_path, reserved_usd=Decimal("1"), feature="ask", provider="t", model="m")
        settle(home_ctx.ledger_path, call, cost_usd=Decimal("0.25"))
        assert runner.run("SELECT count(*), sum(cost_usd) FROM agent_usage").rows == [[3, Decimal("0.76250000")]]
