"""`finops anomalies`: JSON contract, human output, Slack digest to a loopback listener, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli import main
from tests.support.slack_server import SlackState, slack_server
from tests.tools.test_anomalies import day, load, quiet_org, series
from tests.tools.test_explain import _cloudtrail, _infra_repo


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with a 10-instance scale-out of web-prod from day 80 and a spike on db-orders."""
    rows = []
    for n in range(10):
        fleet = series(f"i-0f{n:03d}", 30, usage="BoxUsage:c5.xlarge", seed=40 + n,
                       change=lambda i, c: c if 80 <= i < 88 else 0.0)  # fmt: skip
        rows += [(d, s, a, g, r, f"web-prod-{n:02d}", u, t, c) for d, s, a, g, r, _, u, t, c in fleet]
    batch = series("i-batch", 90, team="data", seed=9, change=lambda i, c: c * 4 if i == 95 else c)
    load(tmp_path / "home", quiet_org() + rows + batch)
    return tmp_path / "home"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_lists_anomalies_with_the_contract_keys_and_graded_explanations(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ct, repo = _cloudtrail(tmp_path, day(80)), _infra_repo(tmp_path, day(80))
    code, out, _ = run(capsys, "--home", str(home), "anomalies", "--since", str(day(40)), "--explain",
                       "--cloudtrail-dir", str(ct), "--git-repo", str(repo), "--json")  # fmt: skip
    assert code == 0
    doc = json.loads(out)
    keys = {"id", "start", "end", "dimensions", "expected_usd", "actual_usd", "impact_usd", "severity", "explanations"}
    assert all(keys <= set(a) for a in doc["anomalies"])
    by_start = {a["start"]: a for a in doc["anomalies"]}
    fleet, batch = by_start[str(day(80))], by_start[str(day(95))]
    top = fleet["explanations"][0]
    assert {"grade", "source", "summary", "time", "actor", "resource_ids", "ref"} <= set(top)
    assert (top["grade"], top["source"], top["ref"]) == ("confirmed", "cloudtrail", "ev-asg-1")
    assert fleet["status"] == "explained" and "web-prod" in fleet["narrative"]
    assert batch["status"] == "unexplained" and batch["explanations"] == []
    assert doc["usage"]["cost_usd"] == 0


def test_human_output_is_a_money_table_with_narratives(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ct = _cloudtrail(tmp_path, day(80))
    code, out, err = run(capsys, "--home", str(home), "anomalies", "--since", str(day(40)), "--explain",
                         "--cloudtrail-dir", str(ct))  # fmt: skip
    assert code == 0
    flat = " ".join(out.split())
    assert "2 anomalies" in flat and "$" in flat and "impact/day" in flat
    assert "because alice" in flat
    assert "template" in err  # the offline narrative says so on stderr


def test_slack_digest_is_posted_once_to_the_team_webhook_and_not_again_on_rerun(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = SlackState()
    ct = _cloudtrail(tmp_path, day(80))
    with slack_server(state) as base:
        monkeypatch.setenv("FINOPS_SLACK_WEBHOOK_URL", f"{base}/services/T000/B000/secretsecretsecret")
        args = ["--home", str(home), "anomalies", "--since", str(day(40)), "--slack", "--cloudtrail-dir", str(ct)]
        first = run(capsys, *args, "--json")
        second = run(capsys, *args, "--json")
    assert first[0] == 0 and second[0] == 0
    assert len(state.delivered) == 1
    message = state.delivered[0]
    text = json.dumps(message["blocks"])
    assert "web-prod" in text and "producing this digest cost $0.0000" in text
    assert json.loads(first[1])["slack"][0]["status"] == "sent"
    assert json.loads(second[1])["slack"][0]["status"] == "duplicate"
    assert "secretsecretsecret" not in first[1] + first[2] + second[1] + second[2]


def test_files_and_the_api_for_cloudtrail_together_are_a_usage_error(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--home", str(home), "anomalies", "--cloudtrail-dir", str(home),
                         "--cloudtrail", "aws")  # fmt: skip
    assert code == 2 and out == ""
    assert "--cloudtrail-dir" in err


def test_the_command_module_imports_no_heavy_library() -> None:
    heavy = "('duckdb', 'numpy', 'pandas', 'slack_sdk', 'anthropic', 'openai')"
    code = f"import sys, agent.commands.anomalies; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_with_an_llm_provider_narratives_are_metered_and_cite_evidence_ids(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.llm_stub import AnthropicWire, Turn, serve
    from tools import ledger

    ct = _cloudtrail(tmp_path, day(80))
    with serve(AnthropicWire()) as (base, state):
        state.actions = [
            Turn(text="Spend on web-prod rose after alice raised the ASG minimum size [E1]."),
            Turn(text="No matching change was found in the evidence; unexplained."),
        ]
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", base)
        code, out, err = run(capsys, "--home", str(home), "anomalies", "--since", str(day(40)), "--explain",
                             "--cloudtrail-dir", str(ct), "--json")  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    fleet = next(a for a in doc["anomalies"] if a["start"] == str(day(80)))
    assert fleet["narrative_source"] == "llm" and fleet["narrative"].endswith("[E1].")
    assert doc["usage"]["cost_usd"] > 0 and doc["usage"]["input_tokens"] > 0
    assert len(state.requests) == 2 and all(not r.get("tools") for r in state.requests)
    rows = ledger.read_usage(home / "ledger.sqlite")
    assert len(rows) == 2
    assert {r[list(ledger.USAGE_COLUMNS).index("feature")] for r in rows} == {"anomaly_narrative"}
