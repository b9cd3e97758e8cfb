"""agent.workflows.weekly_tags: idempotent per ISO week, diff vs last week, queue, Slack digest."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from agent.workflows.weekly_tags import iso_week, run_weekly, state_dir
from evals.tagging import synthetic
from tools.billing import store
from tools.context import ToolContext
from tools.policies import queue

DAY = date(2026, 12, 2)


@pytest.fixture
def org_home(tmp_path: Path) -> ToolContext:
    org = synthetic.generate(160, seed=5)
    home = tmp_path / "home"
    synthetic.write_focus(home / "finops.duckdb", org, days=1)
    return ToolContext(home=home)


class _Slack(BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, object]]]:
    _Slack.bodies = []
    server = HTTPServer(("127.0.0.1", 0), _Slack)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("FINOPS_SLACK_WEBHOOK", f"http://127.0.0.1:{server.server_port}/services/T0/B0/secret")
    try:
        yield _Slack.bodies
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_iso_week_names_the_year_and_week() -> None:
    assert iso_week(DAY) == "2026-W49" and iso_week(date(2027, 1, 1)) == "2026-W53"


def test_rerunning_the_same_week_does_nothing_new(org_home: ToolContext) -> None:
    first = run_weekly(org_home, today=DAY, slack=False)
    assert first.policies and not first.already_ran and first.counts()["new"] > 0
    files = sorted((org_home.policies_dir / "pending").glob("*.yml"))
    again = run_weekly(org_home, today=date(2026, 12, 6), slack=False)
    assert again.already_ran and again.run_id == first.run_id and again.policies == first.policies
    assert sorted((org_home.policies_dir / "pending").glob("*.yml")) == files
    assert len(queue.history(org_home)) == len(files)
    assert [p.name for p in state_dir(org_home).iterdir()] == ["2026-W49.json"]


def test_next_week_diffs_against_last_week_and_never_reproposes_a_rejected_policy(org_home: ToolContext) -> None:
    first = run_weekly(org_home, today=DAY, slack=False, min_confidence=0.6)
    rejected_id = Path(first.policies[0]).stem
    queue.reject(org_home, rejected_id, "wrong team mapping")
    by_resource: dict[str, dict[str, str]] = {}
    for item in first.items:
        by_resource.setdefault(item.resource_id, {})[item.key] = item.value
    fixed_id = next(rid for rid, tags in by_resource.items() if len(tags) == 4)  # fully untagged
    with store.writer(org_home.db_path) as con:  # someone applied the suggested tags by hand
        con.execute(
            "INSERT INTO focus (ChargePeriodStart, ResourceId, EffectiveCost, Tags) "
            "VALUES (TIMESTAMP '2026-12-08', ?, 1, MAP(?, ?))",
            [fixed_id, list(by_resource[fixed_id]), list(by_resource[fixed_id].values())],
        )
        con.execute(
            "INSERT INTO focus (ChargePeriodStart, ResourceId, ResourceName, ServiceName, SubAccountId, "
            "SubAccountName, RegionId, EffectiveCost) SELECT TIMESTAMP '2026-12-08', 'i-0feedfeedfeedfeed', "
            "'checkout-prod-api-999', ServiceName, SubAccountId, SubAccountName, RegionId, 500 "
            "FROM focus WHERE ResourceName LIKE 'checkout-prod-%' AND ServiceName LIKE '%Compute%' LIMIT 1"
        )
    second = run_weekly(org_home, today=date(2026, 12, 9), slack=False, min_confidence=0.6)
    assert second.week == "2026-W50" and second.previous_week == "2026-W49"
    statuses = {(i.resource_id, i.key): i.status for i in second.items}
    rejected = queue.tagged_targets(org_home, "rejected")
    assert rejected and all(statuses[(rid, key)] == "rejected_before" for _, rid, key in rejected
                            if (rid, key) in statuses)  # fmt: skip
    assert f"{fixed_id}|team" in second.resolved
    assert statuses[("i-0feedfeedfeedfeed", "team")] == "new"
    assert {i.status for i in second.items if i.resource_id != "i-0feedfeedfeedfeed"} <= {
        "still_pending", "rejected_before", "below_confidence", "not_targetable"
    }  # fmt: skip
    new_files = [Path(p) for p in second.policies]
    pinned = {
        rid for p in new_files for pol in queue.read_policy_data(p)["policies"] for rid in pol["filters"][0]["value"]
    }
    assert pinned == {"i-0feedfeedfeedfeed"}


def test_the_slack_summary_is_posted_once_per_week(org_home: ToolContext, slack: list[dict[str, object]]) -> None:
    run = run_weekly(org_home, today=DAY)
    assert run.slack is not None and run.slack.status == "sent"
    assert len(slack) == 1 and "Weekly tagging run 2026-W49" in json.dumps(slack[0])
    assert "finops policies list" in json.dumps(slack[0])
    run_weekly(org_home, today=DAY)
    assert len(slack) == 1


def test_without_a_slack_destination_the_run_still_completes_and_says_why(
    org_home: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FINOPS_SLACK_WEBHOOK", raising=False)
    monkeypatch.delenv("FINOPS_SLACK_BOT_TOKEN", raising=False)
    run = run_weekly(org_home, today=DAY)
    assert run.slack is not None and run.slack.status == "skipped" and "FINOPS_SLACK_WEBHOOK" in run.slack.message
    assert (state_dir(org_home) / "2026-W49.json").is_file()


def test_the_runs_llm_refinement_cost_is_recorded_with_its_run_id_in_the_ledger(org_home: ToolContext) -> None:
    from agent.llm.scripted import ScriptedModel, say
    from agent.metering import Budget, Meter
    from agent.prices import PriceTable
    from agent.workflows.tag_refinement import TagRefiner
    from tools.ledger import USAGE_COLUMNS, read_usage

    meter = Meter(org_home.ledger_path, PriceTable(overrides={}), Budget(), feature="tag_refinement")
    refine = TagRefiner(ScriptedModel([say("[]")], repeat_last=True), meter, "claude-haiku-4-5", threshold=1.0)
    meter.session_id = "tags-weekly-2026-W49-test"
    run = run_weekly(org_home, today=DAY, slack=False, refiner=refine, run_id=meter.session_id,
                     llm_cost=lambda: (float(refine.cost_usd), meter.calls))  # fmt: skip
    rows = [dict(zip(USAGE_COLUMNS, r, strict=True)) for r in read_usage(org_home.ledger_path)]
    assert run.run_id == meter.session_id and run.llm_calls == len(rows) > 0
    assert {r["session_id"] for r in rows} == {run.run_id} and {r["feature"] for r in rows} == {"tag_refinement"}
    assert run.llm_cost_usd == pytest.approx(sum(float(r["cost_usd"]) for r in rows)) and run.llm_cost_usd > 0
    saved = json.loads((state_dir(org_home) / "2026-W49.json").read_text())
    assert saved["llm_cost_usd"] == run.llm_cost_usd
