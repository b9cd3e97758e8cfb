"""`finops tags suggest|weekly`: --json shapes, exit codes, idempotent weekly run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import main
from evals.tagging import synthetic


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def home(tmp_path: Path) -> Path:
    synthetic.write_focus(tmp_path / "finops.duckdb", synthetic.generate(100, seed=3), days=1)
    return tmp_path


def test_suggest_json_has_suggestions_policies_and_coverage(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["--home", str(home), "tags", "suggest", "--provider", "offline", "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and out.count("\n") == 1 and "deterministic scorer" in err
    assert {"suggestions", "policies", "coverage"} <= set(doc)
    first = doc["suggestions"][0]
    assert {"resource_id", "key", "value", "confidence", "evidence"} <= set(first) and first["confidence"] >= 0.9
    assert set(doc["coverage"]) == {"tagged_cost_share_now", "tagged_cost_share_if_approved"}
    assert doc["policies"] and all(Path(p).is_file() for p in doc["policies"])
    code, out, _ = run(["--home", str(home), "policies", "list", "--json"], capsys)
    assert sorted(p["path"] for p in json.loads(out)["policies"]) == sorted(doc["policies"])


def test_suggest_rejects_a_confidence_outside_0_to_1(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["--home", str(home), "tags", "suggest", "--min-confidence", "1.5", "--json"], capsys)
    assert code == 2 and out == "" and "min-confidence" in err


def test_weekly_json_is_idempotent_within_the_iso_week(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--home", str(home), "tags", "weekly", "--provider", "offline", "--no-slack", "--today", "2026-12-02"]
    code, out, _ = run([*args, "--json"], capsys)
    first = json.loads(out)
    assert code == 0 and first["week"] == "2026-W49" and not first["already_ran"] and first["counts"]["new"] > 0
    code, out, _ = run([*args, "--json"], capsys)
    second = json.loads(out)
    assert code == 0 and second["already_ran"] and second["policies"] == first["policies"]
    code, _, err = run([*args[:-1], "2026-13-40"], capsys)
    assert code == 2 and "YYYY-MM-DD" in err
