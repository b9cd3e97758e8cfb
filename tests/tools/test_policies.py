"""tools.policies: models -> Custodian YAML, both c7n validation layers, allow-list, review queue."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tools.context import ToolContext
from tools.errors import BadInput
from tools.policies import queue
from tools.policies.build import mark_for_op_file, notify_file, propose_mark_for_op, propose_notify, refs_for
from tools.policies.models import MarkForOpAction, PolicyFile, PolicySpec, TagAction
from tools.policies.resources import KINDS, resolve
from tools.policies.validate import (
    PolicyInvalid,
    PolicyRejected,
    check_allowed,
    validate_policy_data,
    validate_with_c7n,
)

ACCT = "123456789012"
QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/c7n-mailer"
ENDPOINT = f"arn:aws:sagemaker:us-east-1:{ACCT}:endpoint/llm-gpu-exp"


def tag_file(ids: list[str] | None = None, value: str = "payments", run_id: str = "run-1") -> PolicyFile:
    refs = refs_for(ids or ["i-0123456789abcdef0", "i-0123456789abcdef1"], account_id=ACCT, region="us-east-1")
    spec = PolicySpec(
        kind="ec2",
        account_id=ACCT,
        region="us-east-1",
        resource_ids=[r.resource_id for r in refs],
        action=TagAction(tags={"team": value}),
    )
    return PolicyFile(
        title="tag team",
        policies=[spec],
        evidence=["name token 'checkout'"],
        confidence=0.95,
        monthly_impact_usd=120.5,
        run_id=run_id,
        source="tags",
    )


def all_action_files() -> list[PolicyFile]:
    sm = refs_for([ENDPOINT])
    asg = refs_for(["web-prod"], kind="asg", account_id=ACCT, region="us-east-1")
    return [
        tag_file(),
        mark_for_op_file(
            sm,
            op="delete",
            days=14,
            title="idle endpoint",
            evidence=["0 invocations"],
            confidence=0.9,
            monthly_impact_usd=3400.0,
            run_id="anomalies-1",
        ),
        notify_file(
            asg,
            to=["resource-owner", "alice@acme.example"],
            subject="ASG web-prod oversized",
            queue=QUEUE,
            title="notify owner",
            evidence=["min size 20"],
            confidence=0.8,
            monthly_impact_usd=900.0,
            run_id="anomalies-1",
        ),
    ]


def test_every_kind_of_generated_policy_passes_c7n_schema_and_its_own_validate() -> None:
    for pf in all_action_files():
        names = validate_with_c7n(pf.to_custodian(), full_schema=True)
        assert names == [p.name() for p in pf.policies]
        check_allowed(pf.to_custodian(), QUEUE)


def test_shape_validation_catches_what_full_schema_validation_catches() -> None:
    data = tag_file().to_custodian()
    data["policies"][0]["filters"][0]["op"] = "eqq"
    for full in (True, False):
        with pytest.raises(PolicyInvalid, match="validation"):
            validate_with_c7n(copy.deepcopy(data), full_schema=full)


def test_c7n_semantic_validate_rejects_an_op_the_schema_accepts() -> None:
    data = all_action_files()[1].to_custodian()
    data["policies"][0]["actions"][0]["op"] = "explode"
    with pytest.raises(PolicyInvalid, match="invalid op"):
        validate_with_c7n(data)


@pytest.mark.parametrize(
    "action",
    [
        {"type": "terminate"},
        {"type": "delete"},
        {"type": "stop"},
        {"type": "webhook", "url": "https://example.com/x"},
        {"type": "invoke-lambda", "function": "f"},
        {"type": "set-iam-policy"},
        {
            "type": "notify",
            "to": ["a@b.co"],
            "transport": {"type": "sqs", "queue": "https://sqs.us-east-1.amazonaws.com/999999999999/evil"},
        },
        {"type": "mark-for-op", "op": "terminate"},
        {"type": "mark-for-op", "op": "stop", "days": 1},
        {"type": "mark-for-op", "op": "stop", "days": 7, "hours": 1},
        {"type": "tag", "tags": {"team": "x"}, "key": "other", "value": "y"},
    ],
)
def test_actions_outside_the_allow_list_are_rejected_even_when_c7n_accepts_them(action: dict[str, Any]) -> None:
    data = tag_file().to_custodian()
    data["policies"][0]["actions"] = [action]
    with pytest.raises(PolicyRejected):
        check_allowed(data, QUEUE)


@pytest.mark.parametrize("mode", ["periodic", "cloudtrail", "config-rule", "ec2-instance-state", "pull"])
def test_a_policy_with_any_mode_key_is_rejected(mode: str) -> None:
    data = tag_file().to_custodian()
    data["policies"][0]["mode"] = {"type": mode}
    with pytest.raises(PolicyRejected, match="not allowed"):
        check_allowed(data)


@pytest.mark.parametrize(
    "filters",
    [
        [],
        [{"type": "value", "key": "InstanceType", "op": "in", "value": ["p4d.24xlarge"]}],
        [{"type": "value", "key": "InstanceId", "op": "in", "value": []}],
        [{"type": "value", "key": "InstanceId", "op": "ne", "value": "i-1"}],
        [{"type": "value", "key": "InstanceId", "op": "in", "value": ["i-1"]}, {"tag:env": "prod"}],
    ],
)
def test_filters_that_do_not_pin_resource_ids_are_rejected(filters: list[dict[str, Any]]) -> None:
    data = tag_file().to_custodian()
    data["policies"][0]["filters"] = filters
    with pytest.raises(PolicyRejected, match="filter"):
        check_allowed(data)


def test_account_and_region_conditions_are_required() -> None:
    data = tag_file().to_custodian()
    data["policies"][0]["conditions"] = [{"type": "value", "key": "region", "value": "us-east-1"}]
    with pytest.raises(PolicyRejected, match="account_id and region"):
        check_allowed(data)


def test_mark_for_op_needs_explicit_days_and_an_op_allowed_for_the_kind() -> None:
    with pytest.raises(ValidationError, match="days"):
        MarkForOpAction.model_validate({"op": "delete"})
    with pytest.raises(ValidationError, match="not allowed on s3"):
        PolicySpec(
            kind="s3",
            account_id=ACCT,
            region="us-east-1",
            resource_ids=["b"],
            action=MarkForOpAction(op="delete", days=7),
        )


def test_notify_is_refused_without_the_configured_mailer_queue(
    ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(queue.MAILER_QUEUE_ENV, raising=False)
    with pytest.raises(BadInput, match="FINOPS_C7N_MAILER_QUEUE"):
        propose_notify(
            ctx,
            resource_ids=["web-prod"],
            kind="asg",
            account_id=ACCT,
            region="us-east-1",
            to=["resource-owner"],
            subject="x",
            evidence=[],
            confidence=0.5,
            monthly_impact_usd=None,
            run_id="r1",
        )
    monkeypatch.setenv(queue.MAILER_QUEUE_ENV, QUEUE)
    path = propose_notify(
        ctx,
        resource_ids=["web-prod"],
        kind="asg",
        account_id=ACCT,
        region="us-east-1",
        to=["resource-owner"],
        subject="ASG oversized",
        evidence=["min 20"],
        confidence=0.5,
        monthly_impact_usd=10.0,
        run_id="r1",
    )
    action = yaml.safe_load(path.read_text())["policies"][0]["actions"][0]
    assert action["transport"] == {"type": "sqs", "queue": QUEUE} and action["to"] == ["resource-owner"]


def test_resolve_maps_billing_ids_and_arns_to_custodian_ids() -> None:
    cases = {
        "i-0123456789abcdef0": ("ec2", "i-0123456789abcdef0"),
        "vol-0123456789abcdef0": ("ebs", "vol-0123456789abcdef0"),
        f"arn:aws:rds:eu-west-1:{ACCT}:db:ledger": ("rds", "ledger"),
        f"arn:aws:lambda:eu-west-1:{ACCT}:function:resize:prod": ("lambda", "resize"),
        f"arn:aws:elasticloadbalancing:eu-west-1:{ACCT}:loadbalancer/app/web/50dc6c495c0c9188": (
            "app-elb",
            f"arn:aws:elasticloadbalancing:eu-west-1:{ACCT}:loadbalancer/app/web/50dc6c495c0c9188",
        ),
        f"arn:aws:elasticloadbalancing:eu-west-1:{ACCT}:loadbalancer/classic-web": ("elb", "classic-web"),
        ENDPOINT.replace("us-east-1", "eu-west-1"): ("sagemaker-endpoint", ENDPOINT.replace("us-east-1", "eu-west-1")),
    }
    for billing_id, (kind, rid) in cases.items():
        ref = resolve(billing_id, account_id=ACCT, region="eu-west-1")
        assert ref is not None and (ref.kind, ref.resource_id, ref.region) == (kind, rid, "eu-west-1")
    assert resolve("acme-logs", service="Amazon Simple Storage Service", account_id=ACCT, region="us-east-1")
    assert resolve("nat-0123456789abcdef0", account_id=ACCT, region="us-east-1") is None
    assert resolve("i-0123456789abcdef0", account_id=None, region="us-east-1") is None


def test_proposing_the_same_policies_twice_leaves_one_file(ctx: ToolContext) -> None:
    first = queue.propose(ctx, tag_file(run_id="run-1"))
    second = queue.propose(ctx, tag_file(run_id="run-2"))
    assert first == second and len(list((ctx.policies_dir / "pending").glob("*.yml"))) == 1
    assert [e.event for e in queue.history(ctx)] == ["proposed"]


def test_the_file_header_gives_review_commands_and_commented_evidence(ctx: ToolContext) -> None:
    pf = tag_file()
    pf.evidence.append("name 'x'\npolicies:\n- name: evil\n  actions: [terminate]")
    path = queue.propose(ctx, pf)
    text = path.read_text()
    header = text.split("policies:\n", 1)[0]
    assert all(line.startswith("#") for line in header.splitlines())
    assert (
        f"custodian validate {path.name}" in header
        and f"custodian run --dryrun -s out -r us-east-1 {path.name}" in header
    )
    assert "Confidence: 0.95" in header and "$120.50/month" in header and "run run-1" in header
    data = yaml.safe_load(text)
    assert [p["actions"] for p in data["policies"]] == [[{"type": "tag", "tags": {"team": "payments"}}]]
    validate_policy_data(data)


def test_custodian_validate_accepts_queued_files_without_aws_credentials(ctx: ToolContext, tmp_path: Path) -> None:
    paths = [queue.propose(ctx, pf) for pf in all_action_files()[:2]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["HOME"] = str(tmp_path)
    custodian = Path(sys.executable).with_name("custodian")
    cmd = [str(custodian)] if custodian.exists() else ["custodian"]
    proc = subprocess.run([*cmd, "validate", *map(str, paths)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("Configuration valid") == len(paths)


def test_approve_moves_the_file_and_returns_commands_without_applying(ctx: ToolContext) -> None:
    path = propose_mark_for_op(
        ctx,
        resource_ids=[ENDPOINT],
        op="delete",
        days=14,
        evidence=["idle"],
        confidence=0.9,
        monthly_impact_usd=3400.0,
        run_id="a-1",
    )
    detail = queue.approve(ctx, path.stem)
    approved = ctx.policies_dir / "approved" / path.name
    assert not path.exists() and approved.is_file() and detail.summary.status == "approved"
    assert detail.commands == [
        f"custodian validate {approved}",
        f"custodian run --dryrun -s out -r us-east-1 {approved}",
    ]
    assert queue.approve(ctx, path.stem).summary.status == "approved"  # idempotent
    with pytest.raises(BadInput, match="already approved"):
        queue.reject(ctx, path.stem, "changed my mind")
    assert [e.event for e in queue.history(ctx, path.stem)] == ["proposed", "approved"]


def test_an_approval_keeps_its_reason_in_the_history(ctx: ToolContext) -> None:
    path = propose_mark_for_op(
        ctx,
        resource_ids=[ENDPOINT],
        op="delete",
        days=14,
        evidence=["idle"],
        confidence=0.9,
        monthly_impact_usd=3400.0,
        run_id="a-2",
    )
    queue.approve(ctx, path.stem, reason="  owner confirmed   the endpoint is unused ")
    events = queue.history(ctx, path.stem)
    assert [(e.event, e.reason) for e in events] == [
        ("proposed", None),
        ("approved", "owner confirmed the endpoint is unused"),
    ]


def test_reject_needs_a_reason_and_a_rejected_policy_cannot_be_approved(ctx: ToolContext) -> None:
    path = queue.propose(ctx, tag_file())
    with pytest.raises(BadInput, match="reason"):
        queue.reject(ctx, path.stem, "  ")
    detail = queue.reject(ctx, path.stem, "wrong team")
    assert detail.summary.status == "rejected" and detail.history[-1].reason == "wrong team"
    assert queue.reject(ctx, path.stem, "again").summary.status == "rejected"
    with pytest.raises(BadInput, match="rejected"):
        queue.approve(ctx, path.stem)
    assert queue.tagged_targets(ctx, "rejected") == {
        ("ec2", "i-0123456789abcdef0", "team"),
        ("ec2", "i-0123456789abcdef1", "team"),
    }
    assert queue.propose(ctx, tag_file()) == ctx.policies_dir / "rejected" / path.name  # never re-queued


def test_an_invalid_policy_writes_nothing_to_the_queue(ctx: ToolContext) -> None:
    bad = PolicySpec.model_construct(
        kind="ec2", account_id=ACCT, region="us-east-1", resource_ids=["i-1"], action={"type": "terminate"}, summary=""
    )
    pf = PolicyFile.model_construct(
        title="bad",
        policies=[bad],
        evidence=[],
        confidence=0.5,
        monthly_impact_usd=None,
        run_id="r",
        source="x",
        created_at=tag_file().created_at,
    )
    with pytest.raises((PolicyRejected, AttributeError)):
        queue.propose(ctx, pf)
    assert not (ctx.policies_dir / "pending").exists() or not any((ctx.policies_dir / "pending").iterdir())


def test_registered_tools_list_and_show_the_queue(ctx: ToolContext) -> None:
    import tools

    path = queue.propose(ctx, tag_file())
    reg = tools.load_registry()
    listed = reg["policies_list"].call(ctx, {"status": "pending"})
    assert [p.id for p in listed.policies] == [path.stem]  # type: ignore[attr-defined]
    shown = reg["policy_show"].call(ctx, {"id": path.stem})
    assert "finops-tag-ec2-" in shown.text and reg["policy_show"].read_only  # type: ignore[attr-defined]
    with pytest.raises(BadInput, match="no policy"):
        reg["policy_show"].call(ctx, {"id": "fin-doesnotexist"})


# ---------------------------------------------------------------- property: nothing outside the allow-list

ids = st.lists(st.from_regex(r"i-[0-9a-f]{17}", fullmatch=True), min_size=1, max_size=5, unique=True)
any_action = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("tag"),
            "tags": st.dictionaries(
                st.sampled_from(["team", "env", "aws:x", "a b"]), st.text(max_size=8), min_size=0, max_size=3
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("mark-for-op"),
            "op": st.sampled_from(["stop", "terminate", "delete", "resize", "explode"]),
            "days": st.integers(-1, 400),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("notify"),
            "to": st.lists(st.sampled_from(["resource-owner", "a@b.co", "x"]), max_size=2),
            "subject": st.text(min_size=0, max_size=5),
            "transport": st.fixed_dictionaries(
                {"type": st.sampled_from(["sqs", "sns"]), "queue": st.sampled_from([QUEUE, "https://evil"])}
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                ["terminate", "delete", "stop", "webhook", "invoke-lambda", "set-iam-policy", "remove-tag"]
            )
        }
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(KINDS)), resource_ids=ids, action=any_action)
def test_no_generated_policy_has_an_action_outside_the_allow_list_or_an_unpinned_filter(
    kind: str, resource_ids: list[str], action: dict[str, Any]
) -> None:
    try:
        spec = PolicySpec.model_validate(
            {"kind": kind, "account_id": ACCT, "region": "us-east-1", "resource_ids": resource_ids, "action": action}
        )
    except ValidationError:
        return  # the builder refused it: nothing is generated
    pol = spec.to_custodian({})
    (act,) = pol["actions"]
    assert act["type"] in {"tag", "mark-for-op", "notify"}
    if act["type"] == "mark-for-op":
        assert act["days"] >= 3 and act["op"] in KINDS[kind].mark_ops
    if act["type"] == "notify":
        assert act["transport"] == {"type": "sqs", "queue": QUEUE}
    assert pol["filters"] == [{"type": "value", "key": KINDS[kind].id_key, "op": "in", "value": sorted(resource_ids)}]
    assert "mode" not in pol
    check_allowed({"policies": [pol]}, QUEUE)


def test_a_pending_file_edited_to_do_more_cannot_be_approved(ctx: ToolContext) -> None:
    path = queue.propose(ctx, tag_file())
    path.write_text(path.read_text().replace("- type: tag\n    tags:\n      team: payments", "- type: terminate"))
    with pytest.raises(PolicyRejected, match="terminate"):
        queue.approve(ctx, path.stem)
    assert path.is_file() and not (ctx.policies_dir / "approved").exists()
