"""tools.tagging: inventory from DuckDB, evidence (CloudTrail, Terraform), calibrated suggestions, policies."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from evals.tagging import synthetic
from tools.billing import store
from tools.context import ToolContext
from tools.policies.validate import check_allowed, validate_with_c7n
from tools.tagging.evidence import IacHit, creator_index, iac_index
from tools.tagging.features import display_name, tokens
from tools.tagging.inventory import Resource, learned_required_keys, load_inventory, tagged_cost_share
from tools.tagging.model import KeywordBaseline
from tools.tagging.suggest import analyse, suggest


@pytest.fixture(scope="module")
def org() -> list[synthetic.SynthResource]:
    return synthetic.generate(200, seed=11)


@pytest.fixture
def org_home(tmp_path: Path, org: list[synthetic.SynthResource]) -> ToolContext:
    home = tmp_path / "home"
    synthetic.write_focus(home / "finops.duckdb", org, days=2)
    synthetic.write_cloudtrail(home / "cloudtrail", org)
    return ToolContext(home=home, cloudtrail_dir=home / "cloudtrail")


def test_tokens_split_names_and_drop_ids_and_numbers() -> None:
    assert tokens("checkout-prod_api-12 i-0abc12def3456 BillingApi") == ["checkout", "prod", "api", "billing", "api"]
    res = Resource("arn:aws:lambda:us-east-1:123456789012:function:etl-dev-batch", "", "", "", "", "", "", "", 0.0)
    assert display_name(res) == "etl-dev-batch"


def test_inventory_ranks_by_cost_and_keeps_each_resources_latest_tags(org_home: ToolContext) -> None:
    with store.writer(org_home.db_path) as con:
        con.execute(
            "INSERT INTO focus (ChargePeriodStart, ResourceId, EffectiveCost, Tags) VALUES "
            "(TIMESTAMP '2026-12-01', 'i-00000000000000001', 100000, MAP {'team': 'new-owner'}), "
            "(TIMESTAMP '2026-11-01', 'i-00000000000000001', 1, MAP {'team': 'old-owner'})"
        )
    with store.reader(org_home.db_path) as con:
        inv = load_inventory(con)
    assert inv[0].resource_id == "i-00000000000000001" and inv[0].tags == {"team": "new-owner"}
    costs = [r.monthly_cost for r in inv]
    assert costs == sorted(costs, reverse=True) and len(inv) == 201


def test_learned_required_keys_are_the_keys_on_most_spend() -> None:
    res = [
        Resource("a", "", "", "", "1", "", "", "", 80.0, {"team": "x", "env": "prod"}),
        Resource("b", "", "", "", "1", "", "", "", 15.0, {"team": "y", "owner": "z"}),
        Resource("c", "", "", "", "1", "", "", "", 5.0, {}),
    ]
    assert learned_required_keys(res) == ["env", "team"]
    assert tagged_cost_share(res, ["team", "env"]) == pytest.approx(0.8)
    assert tagged_cost_share(res, ["team", "env"], {"b": {"env"}}) == pytest.approx(0.95)


def test_suggestions_come_from_the_orgs_values_with_calibrated_confidence_and_evidence(
    org_home: ToolContext, org: list[synthetic.SynthResource]
) -> None:
    analysis = analyse(org_home)
    truth = {s.resource.resource_id: s.true_tags for s in org}
    assert analysis.keys == ["app", "cost_center", "env", "team"] and analysis.keys_source == "learned"
    confident = [c for c in analysis.candidates if c.confidence >= 0.9]
    assert len(confident) >= 0.7 * len(analysis.candidates)
    correct = sum(truth[c.resource_id][c.key] == c.value for c in confident)
    assert correct / len(confident) >= 0.9
    used = {k: {r.tags[k] for r in analysis.resources if k in r.tags} for k in analysis.keys}
    assert all(c.value in used[c.key] for c in analysis.candidates)
    assert all(c.evidence for c in confident)
    assert any(e.startswith("created by ") and "CloudTrail" in e for c in confident for e in c.evidence)
    costs = [c.monthly_cost for c in analysis.candidates]
    assert costs == sorted(costs, reverse=True)


def test_partially_tagged_resources_use_the_tags_they_have(org_home: ToolContext) -> None:
    with store.reader(org_home.db_path) as con:
        inv = load_inventory(con)
    r = Resource("i-0fffffffffffffff1", "", "Instance", "Amazon Elastic Compute Cloud", "999999999999", "",
                 "ap-south-1", "AWS", 5.0, {"team": "payments"})  # fmt: skip
    analysis = analyse(org_home, [*inv, r], creators={}, iac={})
    (s,) = [c for c in analysis.candidates if c.resource_id == r.resource_id and c.key == "cost_center"]
    assert s.value == "cc-1001" and s.method == "co-occurrence" and "team=payments" in s.evidence[0]
    assert s.confidence > 0.9


def test_creator_index_reads_delivered_cloudtrail_files(
    org_home: ToolContext, org: list[synthetic.SynthResource]
) -> None:
    index = creator_index(org_home.cloudtrail_dir)
    ec2 = next(s for s in org if s.kind == "ec2")
    assert index[ec2.resource.resource_id].event == "RunInstances"
    assert ec2.creator.split("@")[0] in index[ec2.resource.resource_id].actor


def test_iac_index_finds_the_terraform_block_its_declared_tags_and_author(tmp_path: Path) -> None:
    repo = tmp_path / "infra"
    (repo / "teams" / "payments").mkdir(parents=True)
    (repo / "teams" / "payments" / "main.tf").write_text(
        'provider "aws" {\n  default_tags {\n    tags = {\n      cost_center = "cc-1001"\n    }\n  }\n}\n'
        'resource "aws_db_instance" "ledger" {\n  identifier = "ledger-prod-db"\n'
        '  tags = {\n    team = "payments"\n    app  = var.app\n  }\n}\n'
    )
    git = ["git", "-C", str(repo), "-c", "user.email=alice@acme.example", "-c", "user.name=Alice"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "ledger db"], check=True)
    hit = iac_index(repo)["ledger-prod-db"]
    assert hit.path == "teams/payments/main.tf" and hit.block == "resource.aws_db_instance.ledger"
    assert hit.declared == {"cost_center": "cc-1001", "team": "payments"} and hit.author == "alice@acme.example"


def test_keyword_baseline_predicts_a_known_value_found_in_the_name() -> None:
    rule = KeywordBaseline("app").fit(["billing-api", "checkout", "api"])
    assert rule.predict_one(tokens("billing-api-prod-7")) == "billing-api"
    assert rule.predict_one(tokens("checkout-worker")) == "checkout"
    assert rule.predict_one(tokens("opaque-name")) is None


def test_suggest_queues_valid_tag_policies_per_account_and_key_and_raises_coverage(org_home: ToolContext) -> None:
    report = suggest(org_home, 0.9)
    assert report.policies and report.coverage.tagged_cost_share_if_approved > report.coverage.tagged_cost_share_now
    accounts_keys = set()
    for path in map(Path, report.policies):
        data = yaml.safe_load(path.read_text())
        check_allowed(data)
        validate_with_c7n(data, full_schema=path == Path(report.policies[0]))
        pols = data["policies"]
        accounts_keys.add(({c["value"] for p in pols for c in p["conditions"] if c["key"] == "account_id"},
                           {k for p in pols for k in p["actions"][0]["tags"]}).__repr__())  # fmt: skip
        for pol in pols:
            assert len(pol["actions"][0]["tags"]) == 1
    assert len(accounts_keys) == len(report.policies)
    pinned = {rid for p in report.policies for pol in yaml.safe_load(Path(p).read_text())["policies"]
              for rid in pol["filters"][0]["value"]}  # fmt: skip
    suggested = {s.resource_id.rsplit(":", 1)[-1] for s in report.suggestions}
    assert pinned <= suggested
    again = suggest(org_home, 0.9)
    assert again.policies == report.policies  # same evidence, same files


def test_tag_suggestions_tool_is_read_only_and_writes_no_policy(org_home: ToolContext) -> None:
    import tools

    tool = tools.load_registry()["tag_suggestions"]
    out = tool.call(org_home, {"min_confidence": 0.9, "limit": 5, "key": "team"})
    assert len(out.suggestions) == 5 and all(s.key == "team" for s in out.suggestions)  # type: ignore[attr-defined]
    assert tool.read_only and not (org_home.policies_dir / "pending").exists()


def test_a_value_declared_in_iac_but_unused_by_the_org_is_flagged_new_and_never_proposed(
    org_home: ToolContext,
) -> None:
    with store.reader(org_home.db_path) as con:
        inv = load_inventory(con)
    r = Resource("i-0eeeeeeeeeeeeeee1", "payments-v2-prod-api-1", "Instance", "Amazon Elastic Compute Cloud",
                 inv[0].account_id, inv[0].account_name, "us-east-1", "AWS", 99999.0, {})  # fmt: skip
    hit = IacHit("teams/payments-v2/main.tf", "resource.aws_instance.api", {"team": "payments-v2"}, None)
    report = suggest(org_home, 0.9, analysis=analyse(org_home, [*inv, r], creators={}, iac={r.name: hit}))
    (flagged,) = [s for s in report.new_values if s.resource_id == r.resource_id and s.key == "team"]
    assert flagged.value == "payments-v2" and flagged.method == "iac" and "IaC teams/payments-v2" in flagged.evidence[0]
    assert all(s.resource_id != r.resource_id or s.key != "team" for s in report.suggestions)
    pinned = {rid for p in report.policies for pol in yaml.safe_load(Path(p).read_text())["policies"]
              if "team" in pol["actions"][0]["tags"] for rid in pol["filters"][0]["value"]}  # fmt: skip
    assert r.resource_id not in pinned


@pytest.mark.slow
def test_tagging_eval_reports_precision_and_coverage_per_key_against_the_baseline() -> None:
    from evals.tagging.run import FOCUS_SAMPLE, run_tagging_eval

    report = run_tagging_eval(datasets=("focus-sample",), folds=2, focus_sample=FOCUS_SAMPLE)
    holdout = report["focus_sample"]["holdout"]
    assert set(holdout["model"]) == {"application", "business_unit", "environment", "ALL"}
    for method in ("model", "keyword_baseline"):
        for row in holdout[method].values():
            assert row["heldout"] > 0 and 0 <= row["coverage"] <= 1 and row["correct"] <= row["predicted"]
    assert holdout["model"]["ALL"]["precision"] >= 0.9 and holdout["model"]["ALL"]["coverage"] > 0.2
