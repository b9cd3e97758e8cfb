"""The command line is an API: --json is one document, errors are one line, exit codes mean something."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]


def finops(*args: str, home: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "agent.cli"] + (["--home", str(home)] if home else []) + list(args)
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, input=stdin, timeout=300, check=False)


@pytest.fixture
def home(sample_home: Path, tmp_path: Path) -> Path:
    """A private copy of the FOCUS-sample home (commands may write caches and ledgers)."""
    target = tmp_path / "home"
    shutil.copytree(sample_home, target)
    return target


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name: str) -> None:
    result = finops(name, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_top_level_help_lists_every_command() -> None:
    result = finops("--help")
    assert result.returncode == 0
    for name in COMMANDS:
        assert name in result.stdout


def test_ask_json_is_one_document_with_the_contract_keys(home: Path) -> None:
    result = finops("ask", "top 3 services by billed cost", "--json", home=home)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {"question", "answer", "sql", "columns", "rows", "provider", "model", "usage"} <= set(doc)
    assert set(doc["usage"]) >= {"input_tokens", "output_tokens", "cost_usd"}
    assert doc["provider"] == "offline" and doc["usage"]["cost_usd"] == 0
    assert len(doc["rows"]) == 3 and isinstance(doc["rows"][0][1], float)
    assert "provider: offline" in result.stderr


def test_ask_human_output_formats_money_and_shows_the_sql(home: Path) -> None:
    result = finops("ask", "billed cost by provider", home=home)
    assert result.returncode == 0, result.stderr
    assert "$" in result.stdout and "SELECT" in result.stdout and "AWS" in result.stdout


def test_ask_declines_what_it_does_not_understand_and_offers_examples(home: Path) -> None:
    result = finops("ask", "which engineers waste money on idle pods", "--json", home=home)
    doc = json.loads(result.stdout)
    assert doc["declined"] is True and doc["sql"] is None
    assert "Try" in doc["answer"]


def test_sql_json_shape_and_rejected_sql_exit_code(home: Path) -> None:
    ok = finops("sql", "SELECT ProviderName, count(*) AS n FROM focus GROUP BY 1 ORDER BY 1", "--json", home=home)
    assert ok.returncode == 0, ok.stderr
    doc = json.loads(ok.stdout)
    assert doc["columns"] == ["ProviderName", "n"] and doc["row_count"] == 3 and doc["truncated"] is False
    bad = finops("sql", "COPY focus TO '/tmp/x.csv'", home=home)
    assert bad.returncode == 2
    assert bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1


def test_ingest_bad_file_is_exit_2_with_one_line(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("BilledCost,ChargePeriodStart\nabc,2026-01-01\n")
    result = finops("ingest", str(bad), home=home)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.csv" in lines[0] and "BilledCost" in lines[0]


def test_ingest_json_summary(tmp_path: Path) -> None:
    sample = ROOT.parent / "shared/data/focus-samples/spec-examples-working-draft/ai_billing"
    result = finops("ingest", str(sample), "--json", home=tmp_path / "h")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["rows"] == 11 and set(doc) >= {"files", "rows", "billing_periods", "providers", "warnings"}


def test_usage_errors_exit_2() -> None:
    assert finops("ask").returncode == 2
    assert finops("no-such-command").returncode == 2


def test_usecases_list_and_run(home: Path) -> None:
    listed = json.loads(finops("usecases", "list", "--json").stdout)
    assert len(listed["use_cases"]) >= 20
    ran = finops("usecases", "run", "effective-savings-rate", "--json", home=home)
    assert ran.returncode == 0, ran.stderr
    doc = json.loads(ran.stdout)
    assert doc["columns"] == ["list_cost", "effective_cost", "esr_pct"] and doc["rows"][0][2] > 0
    unknown = finops("usecases", "run", "tag-coverge", home=home)
    assert unknown.returncode == 2 and "tag-coverage" in unknown.stderr
