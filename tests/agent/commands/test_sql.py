"""`finops sql`: JSON and human output, exit code 2 on rejected SQL, --dialect transpiles only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli import main
from tests.tools.sql.conftest import ROWS, build_home
from tools.context import ToolContext


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> ToolContext:
    return build_home(tmp_path_factory.mktemp("cli") / "home")


def finops(home: ToolContext, *args: str) -> int:
    try:
        main(["--home", str(home.home), *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_json_prints_columns_rows_row_count_and_truncated(home, capsys):
    code = finops(home, "sql", "SELECT ServiceName, count(*) AS n FROM focus GROUP BY 1 ORDER BY 1", "--json")
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc == {
        "columns": ["ServiceName", "n"],
        "rows": [["Amazon Bedrock", 100], ["Amazon Elastic Compute Cloud", 100],
                 ["Amazon Simple Storage Service", 100]],
        "row_count": 3,
        "truncated": False,
    }


def test_json_money_is_a_number(home, capsys):
    finops(home, "sql", "SELECT sum(EffectiveCost) AS cost FROM focus", "--json")
    (cost,) = json.loads(capsys.readouterr().out)["rows"][0]
    assert isinstance(cost, float) and cost > 0


@pytest.mark.parametrize(
    "sql",
    ["DROP TABLE focus", "SELECT 1; DELETE FROM focus", "SELECT * FROM read_csv('/etc/passwd')",
     "SELECT getenv('HOME')", "COPY focus TO 'x.csv'", "SELECT nosuchcolumn FROM focus", "SELECT (((("],
)
def test_rejected_sql_exits_2_with_one_line_on_stderr(home, capsys, sql):
    code = finops(home, "sql", sql, "--json")
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1


def test_rejected_sql_exit_code_from_a_real_process(home):
    proc = subprocess.run(
        [sys.executable, "-m", "agent.cli", "--home", str(home.home), "sql", "ATTACH 'x.db' AS x"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == "" and proc.stderr.strip().count("\n") == 0
    assert "only SELECT queries are allowed" in proc.stderr


def test_dialect_prints_the_transpiled_query_and_does_not_run_it(home, capsys):
    code = finops(home, "sql", "SELECT date_trunc('month', ChargePeriodStart) AS m, sum(billedcost) AS c "
                  "FROM focus GROUP BY 1", "--dialect", "bigquery")
    captured = capsys.readouterr()
    assert code == 0
    assert "TIMESTAMP_TRUNC(ChargePeriodStart, MONTH)" in captured.out and "BilledCost" in captured.out
    assert "not run" in captured.err


def test_dialect_json_and_guard_still_applies(home, capsys):
    assert finops(home, "sql", "SELECT count(*) FROM focus", "--dialect", "snowflake", "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["dialect"] == "snowflake" and doc["ran"] is False and "COUNT(*)" in doc["sql"]
    assert finops(home, "sql", "SELECT getenv('HOME')", "--dialect", "trino") == 2


def test_human_output_is_a_table_with_money(home, capsys):
    assert finops(home, "sql", "SELECT ServiceName, sum(EffectiveCost) AS cost FROM focus GROUP BY 1") == 0
    captured = capsys.readouterr()
    assert "Amazon Bedrock" in captured.out and "$" in captured.out
    assert "3 row(s)" in captured.err


def test_truncation_is_said(home, capsys, monkeypatch):
    monkeypatch.setenv("FINOPS_MAX_ROWS", "50")
    finops(home, "sql", "SELECT ResourceId FROM focus", "--json")
    doc = json.loads(capsys.readouterr().out)
    assert doc["truncated"] is True and doc["row_count"] == 50


def test_query_can_come_from_stdin(home, capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("SELECT count(*) AS n FROM focus"))
    assert finops(home, "sql", "-", "--json") == 0
    assert json.loads(capsys.readouterr().out)["rows"] == [[ROWS]]


def test_importing_the_command_loads_no_duckdb_or_sqlglot():
    code = (
        "import sys, agent.commands.sql, agent.commands.schema; "
        "print(sorted(m for m in ('duckdb', 'sqlglot', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=Path.cwd())
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_whole_hostile_corpus_through_the_cli_exits_2_and_leaks_nothing(home, capsys, monkeypatch, tmp_path):
    from tests.tools.sql.corpus import CASES

    canary = tmp_path / "canary.csv"
    canary.write_text("CANARY-FILE-cli\n")
    monkeypatch.setenv("FINOPS_TEST_CANARY", "CANARY-ENV-cli")
    monkeypatch.setenv("FINOPS_QUERY_TIMEOUT_S", "1")
    monkeypatch.chdir(tmp_path)
    for case in CASES:
        sql = case.sql(canary_path=str(canary), canary_env="FINOPS_TEST_CANARY", out=str(tmp_path / "out.csv"))
        code = finops(home, "sql", sql, "--json")
        captured = capsys.readouterr()
        assert code == (0 if case.expect == "harmless" else 2), case.id
        assert "CANARY-" not in captured.out + captured.err, case.id
        assert sorted(p.name for p in tmp_path.iterdir()) == ["canary.csv"], case.id
