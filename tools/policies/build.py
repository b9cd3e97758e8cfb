"""Small builders other features use to propose policies (tagging, anomaly remediation).

Each builder resolves billing resource ids to Custodian references, groups them by account and
region, and returns a :class:`PolicyFile`; ``propose_*`` also validates and queues it.

Example (anomaly helper: an idle GPU endpoint)::

    path = propose_mark_for_op(ctx, resource_ids=[arn], op="delete", days=14,
                               evidence=["0 invocations in 14 days", "ml.g5.12xlarge $3,400/month"],
                               confidence=0.9, monthly_impact_usd=3400.0, run_id="anomalies-2026-12-02")
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from tools.context import ToolContext
from tools.errors import BadInput
from tools.policies.models import (
    MAX_IDS_PER_POLICY,
    MarkForOpAction,
    NotifyAction,
    PolicyFile,
    PolicySpec,
    SqsTransport,
    TagAction,
)
from tools.policies.queue import mailer_queue, propose
from tools.policies.resources import ResourceKindName, ResourceRef, resolve


def refs_for(
    resource_ids: Iterable[str],
    *,
    service: str = "",
    account_id: str | None = None,
    region: str | None = None,
    kind: ResourceKindName | None = None,
) -> list[ResourceRef]:
    """Resolve ids; any id we cannot target (unknown type, account or region) is a BadInput."""
    out: list[ResourceRef] = []
    for rid in resource_ids:
        ref = resolve(rid, service=service, account_id=account_id, region=region, kind=kind)
        if ref is None:
            raise BadInput(
                f"cannot target {rid!r}: unsupported resource type or unknown account/region "
                "(pass kind=, account_id=, region=)"
            )
        out.append(ref)
    return out


def group_refs(refs: Iterable[ResourceRef]) -> dict[tuple[str, str, str], list[str]]:
    """(kind, account, region) -> sorted unique ids."""
    groups: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for ref in refs:
        groups[(ref.kind, ref.account_id, ref.region)].add(ref.resource_id)
    return {k: sorted(v) for k, v in sorted(groups.items())}


def specs_for(
    refs: Sequence[ResourceRef], action: TagAction | MarkForOpAction | NotifyAction, summary: str
) -> list[PolicySpec]:
    """One spec per (kind, account, region), chunked to the per-policy id limit."""
    specs: list[PolicySpec] = []
    for (kind, account, region), ids in group_refs(refs).items():
        for start in range(0, len(ids), MAX_IDS_PER_POLICY):
            chunk = ids[start : start + MAX_IDS_PER_POLICY]
            specs.append(
                PolicySpec.model_validate(
                    {
                        "kind": kind,
                        "account_id": account,
                        "region": region,
                        "resource_ids": chunk,
                        "action": action,
                        "summary": summary,
                    }
                )
            )
    return specs


def mark_for_op_file(
    refs: Sequence[ResourceRef],
    *,
    op: str,
    days: int,
    title: str,
    evidence: list[str],
    confidence: float,
    monthly_impact_usd: float | None,
    run_id: str,
    source: str = "anomalies",
) -> PolicyFile:
    """A mark-for-op proposal: tag now with a dated op a human can let run (separately) or cancel."""
    action = MarkForOpAction(op=op, days=days)
    return PolicyFile(
        title=title,
        policies=specs_for(refs, action, title),
        evidence=evidence,
        confidence=confidence,
        monthly_impact_usd=monthly_impact_usd,
        run_id=run_id,
        source=source,
    )


def notify_file(
    refs: Sequence[ResourceRef],
    *,
    to: list[str],
    subject: str,
    queue: str,
    title: str,
    evidence: list[str],
    confidence: float,
    monthly_impact_usd: float | None,
    run_id: str,
    source: str = "anomalies",
) -> PolicyFile:
    """A notify proposal delivered by the org's c7n-mailer queue."""
    action = NotifyAction(to=to, subject=subject, transport=SqsTransport(queue=queue))
    return PolicyFile(
        title=title,
        policies=specs_for(refs, action, title),
        evidence=evidence,
        confidence=confidence,
        monthly_impact_usd=monthly_impact_usd,
        run_id=run_id,
        source=source,
    )


def propose_mark_for_op(
    ctx: ToolContext,
    *,
    resource_ids: list[str],
    op: str,
    days: int,
    evidence: list[str],
    confidence: float,
    monthly_impact_usd: float | None,
    run_id: str,
    title: str | None = None,
    service: str = "",
    account_id: str | None = None,
    region: str | None = None,
    kind: ResourceKindName | None = None,
    source: str = "anomalies",
) -> Path:
    """Validate and queue a mark-for-op (e.g. op=delete, days=14 on an idle endpoint); returns the path."""
    refs = refs_for(resource_ids, service=service, account_id=account_id, region=region, kind=kind)
    title = title or f"mark {len(refs)} {refs[0].kind} for {op} in {days} days"
    pf = mark_for_op_file(
        refs,
        op=op,
        days=days,
        title=title,
        evidence=evidence,
        confidence=confidence,
        monthly_impact_usd=monthly_impact_usd,
        run_id=run_id,
        source=source,
    )
    return propose(ctx, pf)


def propose_notify(
    ctx: ToolContext,
    *,
    resource_ids: list[str],
    to: list[str],
    subject: str,
    evidence: list[str],
    confidence: float,
    monthly_impact_usd: float | None,
    run_id: str,
    title: str | None = None,
    service: str = "",
    account_id: str | None = None,
    region: str | None = None,
    kind: ResourceKindName | None = None,
    source: str = "anomalies",
) -> Path:
    """Validate and queue a notify to the inferred owner via the configured c7n-mailer queue."""
    queue = mailer_queue(ctx)
    if queue is None:
        raise BadInput("notify needs the org's c7n-mailer SQS queue: set FINOPS_C7N_MAILER_QUEUE")
    refs = refs_for(resource_ids, service=service, account_id=account_id, region=region, kind=kind)
    pf = notify_file(
        refs,
        to=to,
        subject=subject,
        queue=queue,
        title=title or subject,
        evidence=evidence,
        confidence=confidence,
        monthly_impact_usd=monthly_impact_usd,
        run_id=run_id,
        source=source,
    )
    return propose(ctx, pf)
