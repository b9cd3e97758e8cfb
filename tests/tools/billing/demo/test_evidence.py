"""The demo org's evidence: CloudTrail log files, the infra git repo, the calendar and the manifest."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tools.billing.demo import DemoFiles
from tools.calendar import event_days, load_calendar

from .conftest import read_manifest

FILE_NAME = re.compile(r"^(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_([A-Z0-9]{16})\.json\.gz$")
REQUIRED = (
    "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
    "userAgent", "requestParameters", "responseElements", "requestID", "eventID", "readOnly", "eventType",
    "managementEvent", "recipientAccountId",
)  # fmt: skip


@cache
def records(root: str) -> list[dict[str, Any]]:
    out = []
    for path in sorted(Path(root).rglob("*.json.gz")):
        with gzip.open(path, "rt") as fh:
            out.extend(json.load(fh)["Records"])
    return out


def all_records(demo: DemoFiles) -> list[dict[str, Any]]:
    return records(str(demo.cloudtrail_dir))


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def test_every_cloudtrail_file_is_gzipped_json_records_at_its_s3_delivery_path(demo: DemoFiles) -> None:
    files = sorted(demo.cloudtrail_dir.rglob("*.json.gz"))
    assert len(files) == demo.cloudtrail_files >= 300
    for path in files:
        rel = path.relative_to(demo.cloudtrail_dir).parts
        assert rel[0] == "AWSLogs" and rel[2] == "CloudTrail"
        match = FILE_NAME.match(path.name)
        assert match, path.name
        account, region, stamp, _ = match.groups()
        assert (account, region) == (rel[1], rel[3])
        assert stamp[:8] == "".join(rel[4:7])
        with gzip.open(path, "rt") as fh:
            doc = json.load(fh)
        assert list(doc) == ["Records"] and doc["Records"]
        for rec in doc["Records"]:
            assert all(k in rec for k in REQUIRED)
            assert rec["recipientAccountId"] == account and rec["awsRegion"] == region
            assert rec["eventTime"].startswith(f"{rel[4]}-{rel[5]}-{rel[6]}T")
            assert {"type", "arn", "accountId"} <= set(rec["userIdentity"])


def test_event_ids_are_unique_uuids(demo: DemoFiles) -> None:
    ids = [r["eventID"] for r in all_records(demo)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", i) for i in ids)


def test_creation_events_name_the_creator_of_resources(demo: DemoFiles) -> None:
    names = {r["eventName"] for r in all_records(demo)}
    assert {
        "RunInstances", "CreateVolume", "CreateBucket", "CreateDBInstance", "CreateFunction20150331",
        "CreateEndpoint", "CreateNatGateway", "CreateTrainingJob", "CreateDistribution2020_05_31",
        "CreateAutoScalingGroup",
    } <= names  # fmt: skip
    created = {
        item["instanceId"]: rec["userIdentity"]["arn"]
        for rec in all_records(demo)
        if rec["eventName"] == "RunInstances"
        for item in rec["responseElements"]["instancesSet"]["items"]
    }
    manifest = read_manifest(demo.root)
    instances = [u for u in manifest["untagged_resources"] if u["resource_id"].startswith("i-")]
    assert instances
    for u in instances:
        assert u["resource_id"] in created
        creator = next(h for h in u["hints"] if h.startswith("creator:"))
        who = creator.split(":", 1)[1].split(" ")[0].removeprefix("role/")
        assert who in created[u["resource_id"]] or who.split("@")[0] in created[u["resource_id"]]


def test_asg_incident_cause_is_alices_update_with_min_size_20(demo: DemoFiles) -> None:
    inc = next(i for i in read_manifest(demo.root)["incidents"] if i["kind"] == "asg_min_size")
    rec = next(r for r in all_records(demo) if r["eventID"] == inc["cause"]["ref"])
    assert rec["eventName"] == "UpdateAutoScalingGroup" and rec["eventSource"] == "autoscaling.amazonaws.com"
    assert rec["requestParameters"]["autoScalingGroupName"] == "web-prod"
    assert rec["requestParameters"]["minSize"] == 20
    assert rec["userIdentity"]["arn"].endswith("/alice@acme.example")
    assert rec["eventTime"] == "2026-06-09T10:02:17Z"
    launched = [
        r
        for r in all_records(demo)
        if r["eventName"] == "RunInstances" and r["eventTime"].startswith("2026-06-09T10:")
        and r["userIdentity"].get("invokedBy") == "autoscaling.amazonaws.com"
    ]  # fmt: skip
    assert len(launched) >= 10
    decoys = [r for r in all_records(demo) if r["eventName"] == "UpdateAutoScalingGroup"
              and r["eventTime"].startswith("2026-06-09") and r["eventID"] != rec["eventID"]]  # fmt: skip
    assert decoys and all(d["requestParameters"]["autoScalingGroupName"] != "web-prod" for d in decoys)


def test_terraform_commit_raises_min_size_2_to_20_in_git_history(demo: DemoFiles) -> None:
    repo = demo.git_repo
    assert (repo / ".git").is_dir() and (repo / "terraform/teams/storefront/web/asg.tf").is_file()
    inc = next(i for i in read_manifest(demo.root)["incidents"] if i["kind"] == "asg_min_size")
    sha = inc["commit"]["sha"]
    show = git(repo, "show", "--format=%an <%ae>|%aI|%s", sha)
    head = show.splitlines()[0]
    assert head.startswith("Alice Martin <alice@acme.example>|2026-06-09T09:41:17")
    assert "-  min_size            = 2\n+  min_size            = 20" in show
    log = git(repo, "log", "--since=2026-06-08", "--until=2026-06-10", "--format=%H %s")
    assert sha in log and len(log.splitlines()) >= 2  # the incident commit and a decoy
    assert git(repo, "status", "--porcelain") == ""


def test_agent_loop_and_nat_commits_change_the_config_that_explains_them(demo: DemoFiles) -> None:
    incidents = {i["kind"]: i for i in read_manifest(demo.root)["incidents"]}
    loop = git(demo.git_repo, "show", incidents["agent_loop"]["cause"]["ref"])
    assert "\n-max_agent_iterations: 8\n" in loop and "\n+max_agent_iterations: 80\n" in loop
    nat = incidents["nat_egress"]
    diff = git(demo.git_repo, "show", nat["cause"]["ref"])
    assert "+embedding_source: https://" in diff
    deploy = next(r for r in all_records(demo) if r["eventID"] == nat["related"][0]["ref"])
    assert deploy["eventName"] == "CreateDeployment"
    assert deploy["requestParameters"]["revision"]["gitHubLocation"]["commitId"] == nat["cause"]["ref"]


def test_history_is_deterministic_in_authors_and_dates(demo: DemoFiles) -> None:
    log = git(demo.git_repo, "log", "--format=%ae %aI %cI").splitlines()
    assert len(log) == demo.commits >= 100
    for line in log:
        email, authored, committed = line.split()
        assert email.endswith("@acme.example") and authored == committed and authored.endswith("+00:00")
    dates = [line.split()[1] for line in log]
    assert dates == sorted(dates, reverse=True)


def test_untagged_resources_are_defined_in_the_iac_file_their_hint_names(demo: DemoFiles) -> None:
    manifest = read_manifest(demo.root)
    checked = 0
    for u in manifest["untagged_resources"]:
        iac = [h.split(":", 1)[1] for h in u["hints"] if h.startswith("iac:")]
        if not iac or u["ambiguous"]:
            continue
        text = (demo.git_repo / iac[0]).read_text()
        assert u["resource_name"] in text
        assert f"/teams/{u['true_tags']['team']}/" in iac[0] or "/azure/" in iac[0] or "/shared/" in iac[0]
        checked += 1
    assert checked >= 20
    ambiguous = [u for u in manifest["untagged_resources"] if u["ambiguous"]]
    assert all(not any(h.startswith("iac:") for h in u["hints"]) for u in ambiguous)


def test_calendar_file_parses_with_the_shared_calendar_loader(demo: DemoFiles) -> None:
    events = load_calendar(demo.calendar_path)
    names = {e.name for e in events}
    assert "Black Friday / Cyber Monday sale" in names and "EU region launch" in names
    days = event_days(events, date(2026, 11, 1), date(2026, 11, 30))
    assert set(days) == {date(2026, 11, d) for d in range(27, 31)}


def test_manifest_marks_black_friday_as_not_an_anomaly_and_incidents_as_anomalies(demo: DemoFiles) -> None:
    manifest = read_manifest(demo.root)
    assert manifest["seed"] == 42 and manifest["scale"] == "small"
    kinds = {i["kind"]: i for i in manifest["incidents"]}
    assert {"asg_min_size", "gpu_endpoint", "agent_loop", "nat_egress", "rds_resize"} <= set(kinds)
    surges = [i for i in manifest["incidents"] if i["kind"] == "calendar_surge"]
    assert len(surges) == 3 and not any(i["is_anomaly"] for i in surges)
    for inc in manifest["incidents"]:
        if inc["is_anomaly"]:
            assert inc["daily_delta_usd"] > 40, inc["id"]
            assert inc["dimensions"]["ResourceId"] and inc["dimensions"]["SubAccountId"]
            assert inc["cause"]["ref"] and inc["cause"]["actor"]


def test_manifest_cause_refs_resolve_in_the_evidence(demo: DemoFiles) -> None:
    event_ids = {r["eventID"] for r in all_records(demo)}
    shas = set(git(demo.git_repo, "log", "--format=%H").split())
    for inc in read_manifest(demo.root)["incidents"]:
        refs = [inc["cause"]] + inc["related"] + inc["decoys"]
        for ref in refs:
            if ref["source"] == "cloudtrail":
                assert ref["ref"] in event_ids, inc["id"]
            elif ref["source"] == "git":
                assert ref["ref"] in shas, inc["id"]


@pytest.mark.parametrize("kind", ["gpu_endpoint", "rds_resize"])
def test_cloudtrail_causes_name_the_resource_that_costs_more(demo: DemoFiles, kind: str) -> None:
    inc = next(i for i in read_manifest(demo.root)["incidents"] if i["kind"] == kind)
    rec = next(r for r in all_records(demo) if r["eventID"] == inc["cause"]["ref"])
    text = json.dumps(rec)
    rid = inc["dimensions"]["ResourceId"][0]
    assert rid in text or rid.rsplit("/", 1)[-1] in text or rid.rsplit(":", 1)[-1] in text
