"""Where an action fits, an anomaly proposes a Cloud Custodian policy into the review queue.

Two patterns, both *proposals* (a validated policy file a human reviews and runs; nothing here calls
a cloud API):

- a new or grown SageMaker endpoint (GPU hosting left on): mark-for-op ``delete`` in 14 days;
- an Auto Scaling group whose size change is the confirmed cause: mark-for-op ``resize`` in 7 days.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from tools.anomalies.models import Anomaly
from tools.errors import BadInput

if TYPE_CHECKING:
    from tools.context import ToolContext
    from tools.explain import Explained

MIN_DAILY_USD = 50.0
ASG_MARKER = "autoScalingGroupName/"


def _evidence(anomaly: Anomaly, explained: Explained | None) -> list[str]:
    lines = [
        f"anomaly {anomaly.id}: {anomaly.dimension}={anomaly.key} {anomaly.direction} "
        f"${anomaly.impact_per_day_usd:,.2f}/day from {anomaly.start} ({anomaly.days} days)"
    ]
    if explained is not None:
        lines.append(explained.narrative)
        lines += [f"{e.grade}: {e.source} {e.ref} {e.action}" for e in explained.explanations[:3]]
    return lines


def _endpoints(anomaly: Anomaly) -> list[tuple[str, str | None, str | None]]:
    return [
        (c.resource_id, c.account, c.region)
        for c in anomaly.top_contributors
        if c.delta_usd > 0 and ":sagemaker:" in c.resource_id and ":endpoint/" in c.resource_id
    ]


def _asg(explained: Explained | None) -> tuple[str, str] | None:
    """(group name, ARN) of a confirmed Auto Scaling group change, if that is the top cause."""
    if explained is None or not explained.explanations:
        return None
    top = explained.explanations[0]
    if top.grade != "confirmed":
        return None
    for rid in top.resource_ids:
        if ASG_MARKER in rid and rid.startswith("arn:"):
            return rid.split(ASG_MARKER, 1)[1], rid
    return None


def propose_for(ctx: ToolContext, anomaly: Anomaly, explained: Explained | None, run_id: str) -> list[Path]:
    """Queue the policies that fit this anomaly; returns the written paths (possibly none)."""
    from tools.policies.build import propose_mark_for_op

    if anomaly.direction != "up" or anomaly.impact_per_day_usd < MIN_DAILY_USD:
        return []
    monthly = round(anomaly.impact_per_day_usd * 30, 2)
    confidence = 0.9 if explained is not None and explained.status == "explained" else 0.6
    out: list[Path] = []
    for rid, account, region in _endpoints(anomaly):
        try:
            out.append(
                propose_mark_for_op(
                    ctx,
                    resource_ids=[rid],
                    op="delete",
                    days=14,
                    evidence=_evidence(anomaly, explained),
                    confidence=confidence,
                    monthly_impact_usd=monthly,
                    run_id=run_id,
                    title=f"idle GPU endpoint? mark {rid.rsplit('/', 1)[-1]} for delete in 14 days",
                    service="sagemaker",
                    account_id=account,
                    region=region,
                )
            )
        except BadInput:
            continue
    group = _asg(explained)
    if group is not None:
        name, arn = group
        with contextlib.suppress(BadInput):
            out.append(
                propose_mark_for_op(
                    ctx,
                    resource_ids=[arn],
                    op="resize",
                    days=7,
                    evidence=_evidence(anomaly, explained),
                    confidence=confidence,
                    monthly_impact_usd=monthly,
                    run_id=run_id,
                    title=f"oversized ASG? mark {name} for resize review in 7 days",
                    service="autoscaling",
                )
            )
    return out
