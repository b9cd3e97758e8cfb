"""`finops policies list|show|approve|reject`: --json shapes and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli import main
from tools.context import ToolContext
from tools.policies.build import propose_mark_for_op

ENDPOINT = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/llm-gpu-exp"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def queued(home: Path) -> str:
    path = propose_mark_for_op(ToolContext(home=home), resource_ids=[ENDPOINT], op="delete", days=14,
                               evidence=["0 invocations in 14 days"], confidence=0.9, monthly_impact_usd=3400.0,
                               run_id="anomalies-1")  # fmt: skip
    return path.stem


def test_list_and_show_print_one_json_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pid = queued(tmp_path)
    code, out, _ = run(["--home", str(tmp_path), "policies", "list", "--json"], capsys)
    (item,) = json.loads(out)["policies"]
    assert code == 0 and item["id"] == pid and item["status"] == "pending" and item["actions"] == ["mark-for-op"]
    assert item["monthly_impact_usd"] == 3400.0 and item["accounts"] == ["123456789012"]
    code, out, _ = run(["--home", str(tmp_path), "policies", "show", pid, "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and set(doc) == {"summary", "text", "history", "commands"}
    assert "# Evidence:" in doc["text"] and [e["event"] for e in doc["history"]] == ["proposed"]


def test_approve_prints_the_custodian_commands_and_applies_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pid = queued(tmp_path)
    code, out, _ = run(["--home", str(tmp_path), "policies", "approve", pid], capsys)
    assert code == 0 and "Nothing was applied" in out
    assert "custodian validate" in out and "custodian run --dryrun -s out -r us-east-1" in out
    code, out, _ = run(["--home", str(tmp_path), "policies", "list", "--status", "approved", "--json"], capsys)
    assert [p["id"] for p in json.loads(out)["policies"]] == [pid]


def test_reject_needs_a_reason_and_unknown_ids_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pid = queued(tmp_path)
    code, _, err = run(["--home", str(tmp_path), "policies", "reject", pid], capsys)
    assert code == 2 and "--reason" in err
    code, out, _ = run(["--home", str(tmp_path), "policies", "reject", pid, "--reason", "still used", "--json"], capsys)
    assert code == 0 and json.loads(out)["summary"]["status"] == "rejected"
    code, out, err = run(["--home", str(tmp_path), "policies", "approve", pid, "--json"], capsys)
    assert code == 2 and out == "" and "rejected" in err
    code, out, err = run(["--home", str(tmp_path), "policies", "show", "fin-000000000000", "--json"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "no policy" in err
