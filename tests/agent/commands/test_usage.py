"""`finops usage`: the ledger as a report, JSON contract and human output."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from agent.cli import main
from tools import ledger


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def seed(home: Path) -> None:
    path = home / "ledger.sqlite"
    now = datetime.now()
    for feature, model, cost, tokens in (
        ("ask", "claude-haiku-4-5", "0.0021", 1500),
        ("ask", "claude-sonnet-4-5", "0.0100", 2500),
        ("eval", "claude-haiku-4-5", "0.0010", 900),
    ):
        call = ledger.reserve(
            path, reserved_usd=Decimal("0.05"), feature=feature, provider="anthropic", model=model, now=now
        )
        ledger.settle(path, call, cost_usd=Decimal(cost), input_tokens=tokens, output_tokens=100)


def test_usage_json_has_totals_rows_by_model_and_the_budget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed(tmp_path)
    code, out, _ = run(["--home", str(tmp_path), "usage", "--by", "model", "--json"], capsys)
    doc = json.loads(out)
    assert code == 0
    assert doc["total"] == {"calls": 3, "input_tokens": 4900, "output_tokens": 300, "cost_usd": pytest.approx(0.0131)}
    assert [(r["model"], r["calls"]) for r in doc["rows"]] == [("claude-haiku-4-5", 2), ("claude-sonnet-4-5", 1)]
    budget = doc["budget"]
    assert budget["daily_spent_usd"] == pytest.approx(0.0131) and budget["monthly_spent_usd"] == pytest.approx(0.0131)
    assert budget["daily_limit_usd"] == 1.0 and budget["monthly_limit_usd"] == 20.0


def test_usage_by_feature_sums_to_the_total(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed(tmp_path)
    _, out, _ = run(["--home", str(tmp_path), "usage", "--json"], capsys)
    doc = json.loads(out)
    assert {r["feature"]: r["calls"] for r in doc["rows"]} == {"ask": 2, "eval": 1}
    assert sum(r["cost_usd"] for r in doc["rows"]) == pytest.approx(doc["total"]["cost_usd"])


def test_human_output_shows_a_table_and_the_budget_left(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed(tmp_path)
    code, out, _ = run(["--home", str(tmp_path), "usage", "--by", "feature"], capsys)
    assert code == 0 and "3 calls" in out and "budget left: today $0.9869 of $1.00" in out and "eval" in out


def test_an_empty_ledger_reports_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["--home", str(tmp_path), "usage", "--json"], capsys)
    assert json.loads(out)["total"] == {"calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}


def test_a_bad_since_date_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["--home", str(tmp_path), "usage", "--since", "last tuesday"], capsys)
    assert code == 2 and "not a date" in err
