"""The offline text-to-SQL eval runs in CI and fails on regression."""

from __future__ import annotations

from pathlib import Path

from evals.text2sql.runner import load_cases, results_match, run_text2sql_eval


def test_eval_has_enough_cases_on_both_datasets_and_a_held_back_split() -> None:
    cases = load_cases()
    assert len(cases) >= 80
    assert {c["dataset"] for c in cases} == {"demo", "focus_sample"}
    assert {c["split"] for c in cases} >= {"tune", "heldout", "heldout2"}
    assert all("sql" in c or c.get("decline") for c in cases)


def test_result_sets_are_compared_by_value_not_by_sql_text() -> None:
    gold = [["EC2", 10.0], ["S3", 2.5]]
    assert results_match(gold, [["S3", 2.5], ["EC2", 10.0]], ordered=False)
    assert not results_match(gold, [["S3", 2.5], ["EC2", 10.0]], ordered=True)
    assert results_match(gold, [["EC2", "x", 10.0000000001], ["S3", "y", 2.5]], ordered=False)  # extra column
    assert not results_match(gold, [["EC2", 10.5], ["S3", 2.5]], ordered=False)
    assert not results_match(gold, [["EC2", 10.0]], ordered=False)


def test_offline_planner_meets_the_accuracy_goals(eval_root: Path, tmp_path: Path) -> None:
    report = run_text2sql_eval(provider="offline", root=eval_root, report_path=tmp_path / "report.json")
    total = report["total"]
    wrong = [c["id"] for c in report["cases"] if c["outcome"] in ("wrong", "error")]
    assert total["correct_pct"] >= 90.0, wrong
    assert total["wrong_pct"] <= 2.0, wrong
    assert total["cost_usd"] == 0.0
    assert (tmp_path / "report.json").exists()
