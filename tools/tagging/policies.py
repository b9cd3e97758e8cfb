"""Tag suggestions -> ``tag`` policy files in the review queue, one file per account and key."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from tools.context import ToolContext
from tools.policies.build import specs_for
from tools.policies.models import PolicyFile, TagAction
from tools.policies.queue import propose
from tools.policies.resources import ResourceRef, resolve
from tools.tagging.suggest import TagSuggestion

MAX_EVIDENCE_LINES = 150


def target(s: TagSuggestion) -> ResourceRef | None:
    """The Custodian reference for a suggestion's resource, or None if it cannot be targeted."""
    return resolve(s.resource_id, service=s.service, account_id=s.account_id or None, region=s.region or None)


def _evidence_line(s: TagSuggestion) -> str:
    why = "; ".join(s.evidence[:3]) or "no evidence recorded"
    return f"{s.resource_name or s.resource_id} -> {s.key}={s.value} (confidence {s.confidence:.2f}): {why}"


def tag_policy_file(account: str, key: str, items: list[tuple[TagSuggestion, ResourceRef]], run_id: str) -> PolicyFile:
    """One file: for each (kind, region, value) a tag policy pinned to exactly those resources."""
    specs = []
    by_value: dict[str, list[ResourceRef]] = defaultdict(list)
    for s, ref in items:
        by_value[s.value].append(ref)
    for value, refs in sorted(by_value.items()):
        specs += specs_for(refs, TagAction(tags={key: value}), f"tag {key}={value} (finops-agent suggestion)")
    cost = sum(s.monthly_cost for s, _ in items)
    lines = [_evidence_line(s) for s, _ in sorted(items, key=lambda i: -i[0].monthly_cost)]
    if len(lines) > MAX_EVIDENCE_LINES:
        lines = [*lines[:MAX_EVIDENCE_LINES], f"... and {len(lines) - MAX_EVIDENCE_LINES} more resources"]
    return PolicyFile(
        title=f"tag {key} on {len(items)} resources in account {account} (${cost:,.2f}/month untagged)",
        policies=specs, evidence=lines, confidence=min(s.confidence for s, _ in items),
        monthly_impact_usd=cost, run_id=run_id, source="tags",
    )  # fmt: skip


def propose_tag_policies(ctx: ToolContext, suggestions: list[TagSuggestion], run_id: str) -> tuple[list[Path], int]:
    """Queue tag policies per account/key; returns the paths and how many suggestions were not targetable."""
    groups: dict[tuple[str, str], list[tuple[TagSuggestion, ResourceRef]]] = defaultdict(list)
    skipped = 0
    for s in suggestions:
        ref = target(s)
        if ref is None:
            skipped += 1
            continue
        groups[(ref.account_id, s.key)].append((s, ref))
    paths = [propose(ctx, tag_policy_file(acct, key, items, run_id)) for (acct, key), items in sorted(groups.items())]
    return paths, skipped
